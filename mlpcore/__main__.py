"""``python -m mlpcore``: run main.R (or a variation) and print what R prints.

Without arguments: the 60 lines ``step loss accuracy`` as R's cat() prints them, the test
confusion table as R prints ``table(testdata[, 5], labels.dnn)``, and ``Accuracy: 0.986667``.
``--json`` prints one JSON object instead. Bad flags or values: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from .activations import ACTIVATIONS
from .config import Config
from .rformat import r_cat, r_table
from .rrandom import SAMPLE_KINDS
from .trainer import Trainer


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _whole(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _hidden(text: str) -> tuple:
    return tuple(_whole(part.strip()) for part in text.split(","))


def _parser() -> _Parser:
    d = Config.document()
    p = _Parser(prog="python -m mlpcore", description="Train the document's network on iris "
                "(main.R) and print what R prints.")
    p.add_argument("--seed", type=_whole, default=d.seed, help="set.seed() value (1)")
    p.add_argument("--hidden", type=_hidden, default=d.hidden,
                   help="hidden units per layer, e.g. 6 or 16,8 (6)")
    p.add_argument("--lr", type=_real, default=d.lr, help="learning rate (0.01)")
    p.add_argument("--reg", type=_real, default=d.reg, help="L2 regularisation (0.001)")
    p.add_argument("--maxit", type=_whole, default=d.maxit, help="maximum iterations (3000)")
    p.add_argument("--abstol", type=_real, default=d.abstol, help="stop when loss <= this (0.01)")
    p.add_argument("--display", type=_whole, default=d.display, help="print every n steps (50)")
    p.add_argument("--sample-kind", choices=SAMPLE_KINDS, default=d.sample_kind,
                   help="R's sample.kind for the split and mini-batches (rounding)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default=d.activation,
                   help="hidden activation (relu)")
    p.add_argument("--batch-size", type=_whole, default=None, help="mini-batch rows (full batch)")
    p.add_argument("--init-scale", type=_real, default=d.init_scale,
                   help="initial weights = this * rnorm (0.01)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _clean(x):
    """JSON-safe: arrays to lists, non-finite floats to null."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def run(argv=None, out=sys.stdout, err=sys.stderr) -> int:
    try:
        args = _parser().parse_args(argv)
        config = Config(seed=args.seed, hidden=args.hidden, activation=args.activation,
                        lr=args.lr, reg=args.reg, maxit=args.maxit, abstol=args.abstol,
                        display=args.display, init_scale=args.init_scale,
                        batch_size=args.batch_size, sample_kind=args.sample_kind)
    except (_UsageError, ValueError) as exc:
        print(f"python -m mlpcore: error: {exc}", file=err)
        return 2
    trainer = Trainer(config)
    trainer.step(config.maxit)
    h, d = trainer.history, trainer.dataset
    cm = trainer.confusion("test")
    acc = trainer.accuracy("test")
    if args.json:
        doc = {
            "config": config.to_dict(),
            "train_indices": d.train_indices.tolist(),
            "rows": [[s, loss, a] for s, loss, a in zip(h.step, h.loss, h.test_acc, strict=True)],
            "iterations_run": trainer.iteration,
            "status": trainer.status,
            "message": trainer.message,
            "final": {k: v.tolist() for k, v in trainer.params.items()},
            "confusion": cm.tolist(),
            "class_names": d.class_names,
            "accuracy": acc,
        }
        out.write(json.dumps(_clean(doc), allow_nan=False) + "\n")
        return 0
    for s, loss, a in zip(h.step, h.loss, h.test_acc, strict=True):
        out.write(r_cat(s, loss, a) + "\n")
    if trainer.status == "diverged":
        print(trainer.message, file=err)
    used = sorted(set(trainer.predict(d.X_test).tolist()))  # table() shows predicted labels seen
    lines = r_table(cm[:, used], d.class_names, [str(k + 1) for k in used], "", "labels.dnn")
    out.write("\n".join(lines) + "\n")
    out.write(f"Accuracy: {acc:f}\n")
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
