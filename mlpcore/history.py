"""History: what R prints at each display step, as plain lists."""

from __future__ import annotations

import math

__all__ = ["History", "HISTORY_FIELDS"]

HISTORY_FIELDS = ("step", "loss", "data_loss", "reg_loss", "train_acc", "test_acc", "test_loss")


class History:
    """One entry per display step i (i % display == 0), in order.

    loss / data_loss / reg_loss / train_acc come from iteration i's forward pass on the
    training data (parameters after i-1 updates, as R prints them); test_acc and test_loss
    (test data loss, no reg term) come from a forward pass on the test set with the same
    parameters. NaN where there is no test set.
    """

    __slots__ = HISTORY_FIELDS

    def __init__(self) -> None:
        for name in HISTORY_FIELDS:
            setattr(self, name, [])

    def append(self, step, loss, data_loss, reg_loss, train_acc, test_acc, test_loss) -> None:
        self.step.append(int(step))
        self.loss.append(float(loss))
        self.data_loss.append(float(data_loss))
        self.reg_loss.append(float(reg_loss))
        self.train_acc.append(float(train_acc))
        self.test_acc.append(float(test_acc))
        self.test_loss.append(float(test_loss))

    def __len__(self) -> int:
        return len(self.step)

    def since(self, k: int) -> dict:
        """Entries k..end of every field: for incremental updates of a plot."""
        k = max(0, int(k))
        return {name: getattr(self, name)[k:] for name in HISTORY_FIELDS}

    def to_dict(self, json_safe: bool = False) -> dict:
        """All fields as lists (copies); ``json_safe`` turns NaN/inf into None."""
        d = self.since(0)
        if json_safe:
            d = {k: [None if isinstance(v, float) and not math.isfinite(v) else v for v in vs]
                 for k, vs in d.items()}
        return d

    @classmethod
    def _from_columns(cls, columns) -> History:
        """From 7 lists of floats in HISTORY_FIELDS order (trusted: from serialize)."""
        h = cls()
        h.step = [int(v) for v in columns[0]]
        for name, col in zip(HISTORY_FIELDS[1:], columns[1:], strict=True):
            setattr(h, name, col)
        return h

    @classmethod
    def from_dict(cls, d: dict) -> History:
        h = cls()
        lengths = {len(d[name]) for name in HISTORY_FIELDS}
        if len(lengths) != 1:
            raise ValueError("history fields must all have the same length")
        h.step = [int(v) for v in d["step"]]
        for name in HISTORY_FIELDS[1:]:
            setattr(h, name, [math.nan if v is None else float(v) for v in d[name]])
        return h

    def __eq__(self, other) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return all(_same(getattr(self, n), getattr(other, n)) for n in HISTORY_FIELDS)

    def __repr__(self) -> str:
        last = f", last step {self.step[-1]} loss {self.loss[-1]:.7g}" if self.step else ""
        return f"History({len(self)} entries{last})"


def _same(a, b) -> bool:
    if len(a) != len(b):
        return False
    return all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))
