"""Your own CSV: numeric feature columns and one label column, read with pandas; anything
wrong is a DataError with one plain sentence (the tests hold every message).

The rules, as a user meets them:

- Size first: at most MAX_CSV_BYTES bytes (checked before anything is parsed), MAX_COLUMNS
  columns, MAX_ROWS data rows (blank rows between data rows count), MAX_CLASSES classes.
- UTF-8 text (a byte-order mark is fine), commas between values, the header in the first
  row. Rows whose cells are all empty (blank lines, ",,,") are skipped; columns with neither
  a name nor a value (trailing commas) are dropped. Names are stripped of spaces.
- A cell is a number if Python's ``float()`` reads it (spaces around it are fine). Missing:
  an empty cell or one of MISSING. Features must be numbers, present and finite.
- The label column: ``label``; by default the last column that holds text (more than half of
  its filled cells are not numbers); if no column holds text, the last column, provided its
  values are whole numbers with at most MAX_CLASSES different values.
- Features: ``features``, by default every column except the label.
- Classes are the label's values sorted as R's ``factor()`` sorts its levels: numbers
  numerically (written with up to 15 significant digits: 1, 2, 0.5), text by character
  code (R in the C locale); class k is the k-th level.
- Rows in messages: data rows counted from 1 below the header; a spreadsheet shows data
  row r as its row r + 1, and every message says so.

After the header has been read, a DataError carries ``columns`` (the header's names), so a
UI can still offer the label choice when the default fails.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import NamedTuple

import numpy as np

from .data import DataError, Dataset
from .splits import check_seed, split_dataset

__all__ = ["MAX_CSV_BYTES", "MAX_ROWS", "MAX_COLUMNS", "MAX_CLASSES", "MISSING", "CsvData",
           "parse_csv", "csv_dataset", "check_size"]

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 50
MAX_CLASSES = 20
MISSING = ("", "NA", "N/A", "n/a", "na", "NULL", "null", "None", "#N/A", "?")
_MISSING = frozenset(MISSING)


class CsvData(NamedTuple):
    """A parsed CSV: X (N, D) float64, y (N,) int64 in 0..K-1, the D feature names, the K
    class names, the label column's name and every column's name (header order)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    label: str
    columns: list[str]


def _q(text: str) -> str:
    """A name or value for a message: quoted, escaped, at most 40 characters."""
    text = str(text)
    return json.dumps(text if len(text) <= 40 else text[:40] + "…", ensure_ascii=False)


def _row(row: int) -> str:
    return f"row {row} (data rows count from 1 below the header; spreadsheet row {row + 1})"


def _at(column: str, row: int) -> str:
    return f"column {_q(column)}, {_row(row)}"


def check_size(n_bytes: int, max_bytes: int = MAX_CSV_BYTES) -> None:
    """DataError if a file of n_bytes is over the limit (call it before reading a file)."""
    if n_bytes > max_bytes:
        raise DataError(f"the file is {n_bytes:,} bytes; the limit is {max_bytes:,} bytes "
                        f"({max_bytes / 2**20:g} MB)")


def _text(data) -> bytes:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DataError(f"the text is not valid Unicode: character {exc.start + 1} is a "
                            f"lone surrogate") from None
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise DataError(f"expected the file's bytes or text, got {type(data).__name__}")
    return data


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("the file is UTF-16 text; save it as CSV UTF-8")
    if data.startswith(b"PK\x03\x04"):
        raise DataError("the file is an Excel workbook or another zip archive, not CSV text; "
                        "export it as CSV UTF-8")
    if b"\0" in data:
        raise DataError("the file is not CSV text: it contains NUL bytes (is it a "
                        "spreadsheet, an image or another binary file?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"the file is not UTF-8 text: byte 0x{data[exc.start]:02X} at offset "
                        f"{exc.start} is not valid UTF-8; save it as CSV UTF-8") from None


def _read(text: str, max_rows: int, max_columns: int) -> list[list[str]]:
    """Header and rows as stripped strings (pandas' C parser, everything as text)."""
    import pandas as pd  # imported here: the trainer and the CLI's default run don't need it

    first = text[:text.find("\n") + 1 or len(text)]
    try:
        width = len(next(csv.reader([first.rstrip("\r\n")])))
    except (csv.Error, StopIteration):
        width = 0  # pandas decides below
    if width > max_columns:
        raise DataError(f"the file has {width} columns; the limit is {max_columns}")
    try:
        df = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                         na_filter=False, skip_blank_lines=False, nrows=max_rows + 2,
                         engine="c")
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty") from None
    except Exception as exc:  # ParserError and anything else pandas raises on odd input
        raise DataError(_parser_message(str(exc))) from None
    if df.shape[1] > max_columns:
        raise DataError(f"the file has {df.shape[1]} columns; the limit is {max_columns}")
    if df.shape[0] > max_rows + 1:
        raise DataError(f"the file has more than {max_rows:,} data rows; the limit is "
                        f"{max_rows:,}")
    return [[str(v).strip() for v in df[c].tolist()] for c in df.columns]


def _parser_message(msg: str) -> str:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        want, line, saw = (int(g) for g in m.groups())
        return (f"{_row(line - 1)} has {saw} values but the header has {want} columns (a "
                f"comma inside a value needs quotes around the value)")
    m = re.search(r"EOF inside string starting at row (\d+)", msg)
    if m:
        row = int(m.group(1))
        where = "the header" if row == 0 else _row(row)
        return f'a quoted value starting in {where} is never closed (a closing " is missing)'
    return f"the file is not valid CSV: {msg.strip().splitlines()[0] if msg.strip() else msg}"


def _numbers(cells: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(values, kind): float64 (NaN where no number) and 0 number / 1 missing / 2 text."""
    try:
        return np.array(list(map(float, cells)), dtype=np.float64), np.zeros(len(cells), np.int8)
    except ValueError:
        pass
    values, kind = np.full(len(cells), np.nan), np.zeros(len(cells), np.int8)
    for i, c in enumerate(cells):
        try:
            values[i] = float(c)
        except ValueError:
            kind[i] = 1 if c in _MISSING else 2
    return values, kind


def _holds_text(kind: np.ndarray) -> bool:
    return int(np.sum(kind == 2)) > int(np.sum(kind == 0))


def _header(columns: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Names and data columns: unnamed empty columns dropped, names checked."""
    kept = [c for c in columns if c[0] or any(c[1:])]
    if not kept:
        raise DataError("the file is empty")
    for j, c in enumerate(columns, start=1):
        if not c[0] and any(c[1:]):
            raise DataError(f"column {j} has no name in the header; give it one or delete it "
                            f"(R's write.csv writes row names there unless row.names = FALSE)")
    names = [c[0] for c in kept]
    if 2 * int(np.sum(_numbers(names)[1] == 0)) > len(names):  # most names are numbers
        raise DataError("the first row holds numbers, not column names: the file needs a "
                        "header row that names its columns")
    seen: dict[str, int] = {}
    for j, name in enumerate(names, start=1):
        if name in seen:
            raise DataError(f"duplicate column name {_q(name)} (columns {seen[name]} and {j}); "
                            f"every column needs its own name")
        seen[name] = j
    if len(names) == 1:
        sep = next((s for s in (";", "\t", "|") if s in names[0]), None)
        if sep:
            what = "tabs" if sep == "\t" else f'"{sep}"'
            raise DataError(f"the file has only one column; it seems to use {what} between "
                            f"values: save it with commas between values")
        raise DataError("the file has only one column; it needs numeric feature columns and "
                        "a label column")
    return names, [c[1:] for c in kept]


def _default_label(names: list[str], parsed: list) -> str:
    for name, (_, kind) in zip(reversed(names), reversed(parsed), strict=True):
        if _holds_text(kind):
            return name
    values, kind = parsed[-1]
    if (kind == 0).all() and np.isfinite(values).all() and (values == np.round(values)).all() \
            and np.unique(values).size <= MAX_CLASSES:
        return names[-1]
    raise DataError(f"no label column found: no column holds text and the last column "
                    f"{_q(names[-1])} does not hold whole-number classes (at most "
                    f"{MAX_CLASSES} different values); choose the label column")


def _features(names, cells, parsed, label, features, rows) -> tuple[list[str], np.ndarray]:
    if features is None:
        features = [n for n in names if n != label]
    elif not isinstance(features, (list, tuple)) or not all(isinstance(f, str) for f in features):
        raise DataError("the feature columns must be given as a list of column names")
    else:
        features = list(features)
        for f in features:
            if f not in names:
                raise DataError(f"unknown feature column {_q(f)}; the columns are "
                                f"{', '.join(map(_q, names))}")
        if label in features:
            raise DataError(f"the label column {_q(label)} cannot also be a feature")
        twice = next((f for i, f in enumerate(features) if f in features[:i]), None)
        if twice is not None:
            raise DataError(f"feature column {_q(twice)} is chosen twice")
        if not features:
            raise DataError("no feature columns were chosen")
    cols = [parsed[names.index(f)] for f in features]
    if all(_holds_text(kind) for _, kind in cols):
        raise DataError(f"no numeric feature columns: besides the label column {_q(label)}, "
                        f"every column holds text")
    for f, (_, kind) in zip(features, cols, strict=True):
        if _holds_text(kind):
            raise DataError(f"column {_q(f)} holds text, not numbers; only the label column may "
                            f"hold text (delete the column or choose it as the label)")
    X = np.column_stack([values for values, _ in cols])
    bad = (np.column_stack([kind for _, kind in cols]) != 0) | ~np.isfinite(X)
    if bad.any():
        i, j = divmod(int(np.argmax(bad.ravel())), bad.shape[1])  # first bad cell, row-major
        at, kind = _at(features[j], rows[i]), cols[j][1][i]
        cell = cells[names.index(features[j])][i]
        if kind == 1:
            raise DataError(f"{at}: the value is missing" + (f" ({_q(cell)})" if cell else ""))
        what = "a number" if kind == 2 else "a finite number"
        raise DataError(f"{at}: {_q(cell)} is not {what}")
    return features, X


def _num_name(v: float) -> str:
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.15g}"


def _classes(label: str, cells: list[str], values, kind, rows) -> tuple[np.ndarray, list[str]]:
    if (kind == 1).any():
        raise DataError(f"{_at(label, rows[int(np.argmax(kind == 1))])}: the label is missing")
    if (kind == 0).all() and np.isfinite(values).all():
        levels, inverse = np.unique(values, return_inverse=True)
        level_names = [_num_name(float(v)) for v in levels]
        # values that print alike (1 and 1.0000000000000002) are one class, as one R level
        names = list(dict.fromkeys(level_names))  # in numeric order
        index = {name: k for k, name in enumerate(names)}
        y = np.array([index[level_names[i]] for i in np.asarray(inverse).reshape(-1)])
    else:
        names = sorted(set(cells))
        lookup = {c: k for k, c in enumerate(names)}
        y = np.array([lookup[c] for c in cells])
    if len(names) == 1:
        raise DataError(f"the label column {_q(label)} has only one class ({_q(names[0])}); a "
                        f"classifier needs at least 2")
    if len(names) > MAX_CLASSES:
        raise DataError(f"the label column {_q(label)} has {len(names)} different values; the "
                        f"limit is {MAX_CLASSES} classes (is it really the label?)")
    return np.asarray(y, dtype=np.int64).reshape(-1), names


def parse_csv(data, label: str | None = None, features=None, *,
              max_bytes: int = MAX_CSV_BYTES, max_rows: int = MAX_ROWS,
              max_columns: int = MAX_COLUMNS) -> CsvData:
    """The CSV in ``data`` (bytes or str) as a CsvData; DataError for anything unusable.

    label: the label column's name (None: the default rule above). features: the feature
    columns' names (None: every other column).
    """
    raw = _text(data)
    check_size(len(raw), max_bytes)
    text = _decode(raw).rstrip(" \t\r\n,")  # blank rows at the end are not rows
    if not text.strip():
        raise DataError("the file is empty")
    columns = _read(text, max_rows, max_columns)
    names, cols = _header(columns)
    try:
        filled = np.array([any(c[i] for c in cols) for i in range(len(cols[0]))], dtype=bool)
        if not filled.any():
            raise DataError("the file has a header but no data rows")
        rows = np.flatnonzero(filled) + 1  # data row numbers as the user counts them
        cols = [[c[i] for i in rows - 1] for c in cols]
        parsed = [_numbers(c) for c in cols]
        if label is None:
            label = _default_label(names, parsed)
        elif not isinstance(label, str):
            raise DataError(f"the label column must be given by its name, got {label!r}")
        elif label not in names:
            raise DataError(f"unknown label column {_q(label)}; the columns are "
                            f"{', '.join(map(_q, names))}")
        feature_names, X = _features(names, cols, parsed, label, features, rows)
        k = names.index(label)
        y, class_names = _classes(label, cols[k], *parsed[k], rows)
    except DataError as exc:
        exc.columns = names
        raise
    return CsvData(X, y, feature_names, class_names, label, names)


def csv_dataset(data, label: str | None = None, features=None, *, name: str = "data.csv",
                seed: int = 1, split: str = "document", train_fraction: float | None = None,
                standardize: bool = False, sample_kind: str = "rounding") -> Dataset:
    """parse_csv, then split_dataset with ``set.seed(seed)`` (a fresh RRandom): a Dataset.

    train_indices / test_indices count the data rows that were kept (blank rows skipped).
    """
    seed = check_seed(seed)
    d = parse_csv(data, label, features)
    return split_dataset(d.X, d.y, d.feature_names, d.class_names, name=name, seed=seed,
                         split=split, train_fraction=train_fraction,
                         standardize=bool(standardize), sample_kind=sample_kind)
