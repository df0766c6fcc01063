"""Data sets and the document's train/test split.

`load_iris()` reads the copy of R's ``datasets::iris`` bundled with the package; classes are
numbered 0..K-1 in R's factor level order (setosa, versicolor, virginica). `document_split`
is main.R's ``set.seed(1); samp <- c(sample(1:50, 25), sample(51:100, 25), sample(101:150, 25))``
generalised to any labels: for each class in level order, draw half of its rows.
Built-in 2-D sets are in `toydata.py`, CSV uploads in `csvdata.py`, other splits and
standardisation in `splits.py`; all of them report bad data with `DataError`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .rrandom import SAMPLE_KINDS, RRandom

__all__ = ["DataError", "Dataset", "load_iris", "load_csv", "document_split"]


class DataError(ValueError):
    """Data that cannot be used (a bad upload, an unknown data set, a bad setting): the message
    is one plain sentence for the user. ``columns``: the CSV header's names once it was read."""

    columns: list[str] | None = None


@dataclass
class Dataset:
    """A train/test split. X: (N, D) float64; y: (N,) int64 class numbers 0..K-1.

    ``train_indices`` / ``test_indices`` are 1-based row numbers of the source data
    (R's order: training rows in drawn order, test rows in data order).

    Standardisation: ``feature_center`` and ``feature_scale`` are None (the document: raw
    features) or (D,) arrays; then X_train / X_test hold ``(raw - center) / scale`` and any
    new raw points (a decision-boundary grid, a user's point) go through ``transform`` before
    ``Trainer.predict``; ``inverse_transform`` maps model inputs back to raw units.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    train_indices: np.ndarray = field(default=None)
    test_indices: np.ndarray = field(default=None)
    feature_center: np.ndarray | None = None
    feature_scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.name = str(self.name)
        self.feature_names = [str(f) for f in self.feature_names]
        self.class_names = [str(c) for c in self.class_names]
        D, K = len(self.feature_names), len(self.class_names)
        if K < 2:
            raise ValueError(f"a data set needs at least 2 classes, got {K}")
        for part in ("train", "test"):
            X = np.ascontiguousarray(getattr(self, "X_" + part), dtype=np.float64)
            y = np.asarray(getattr(self, "y_" + part))
            if X.ndim != 2 or X.shape[1] != D:
                raise ValueError(f"X_{part} must have shape (rows, {D}), got {X.shape}")
            if y.shape != (X.shape[0],):
                raise ValueError(f"y_{part} must have one label per row of X_{part}")
            if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= K):
                raise ValueError(f"y_{part} labels must be whole numbers from 0 to {K - 1}")
            if not np.isfinite(X).all():
                raise ValueError(f"X_{part} contains missing or non-finite values")
            setattr(self, "X_" + part, X)
            setattr(self, "y_" + part, np.ascontiguousarray(y, dtype=np.int64))
            idx = getattr(self, part + "_indices")
            idx = np.arange(1, X.shape[0] + 1) if idx is None else np.asarray(idx, np.int64)
            if idx.shape != (X.shape[0],):
                raise ValueError(f"{part}_indices must have one entry per row of X_{part}")
            setattr(self, part + "_indices", np.ascontiguousarray(idx, dtype=np.int64))
        if self.X_train.shape[0] < 1:
            raise ValueError("the training set is empty")
        if (self.feature_center is None) != (self.feature_scale is None):
            raise ValueError("feature_center and feature_scale must be given together")
        if self.feature_center is not None:
            center = np.array(self.feature_center, dtype=np.float64)
            scale = np.array(self.feature_scale, dtype=np.float64)
            if center.shape != (D,) or scale.shape != (D,):
                raise ValueError(f"feature_center and feature_scale must have {D} numbers each")
            if not (np.isfinite(center).all() and np.isfinite(scale).all() and (scale > 0).all()):
                raise ValueError("feature_center must be finite and feature_scale positive")
            self.feature_center, self.feature_scale = center, scale

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def standardized(self) -> bool:
        return self.feature_center is not None

    def transform(self, X) -> np.ndarray:
        """Raw features (N, D) -> the network's inputs: ``(X - center) / scale``, or X as is."""
        X = np.asarray(X, dtype=np.float64)
        return (X - self.feature_center) / self.feature_scale if self.standardized else X

    def inverse_transform(self, X) -> np.ndarray:
        """The network's inputs (N, D) -> raw features: ``X * scale + center``, or X as is."""
        X = np.asarray(X, dtype=np.float64)
        return X * self.feature_scale + self.feature_center if self.standardized else X


def load_csv(source, label_column: int = -1):
    """Read a CSV with a header; the label column holds class names (levels sorted as R does).

    ``source`` is a path or a file-like object. Returns (X (N, D) float64, y (N,) int64,
    feature_names, class_names).
    """
    if hasattr(source, "read"):
        text = source.read()
    else:
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if len(rows) < 2:
        raise ValueError("the CSV needs a header and at least one row")
    header, body = rows[0], rows[1:]
    width = len(header)
    if any(len(r) != width for r in body):
        raise ValueError("every CSV row must have as many fields as the header")
    col = label_column % width
    labels = [r[col] for r in body]
    try:
        X = np.array([[float(v) for i, v in enumerate(r) if i != col] for r in body])
    except ValueError as exc:
        raise ValueError(f"feature columns must be numbers: {exc}") from None
    class_names = sorted(set(labels))
    lookup = {c: k for k, c in enumerate(class_names)}
    y = np.array([lookup[v] for v in labels], dtype=np.int64)
    features = [h for i, h in enumerate(header) if i != col]
    return X.reshape(len(body), width - 1), y, features, class_names


_IRIS = None


def load_iris():
    """R's datasets::iris: X (150, 4) float64, y (150,) int64 in 0..2, feature and class names."""
    global _IRIS
    if _IRIS is None:
        text = resources.files(__package__).joinpath("iris.csv").read_text(encoding="utf-8")
        _IRIS = load_csv(io.StringIO(text))
    X, y, features, classes = _IRIS
    return X.copy(), y.copy(), list(features), list(classes)


def document_split(X, y, seed: int = 1, sample_kind: str = "rounding", *,
                   feature_names=None, class_names=None, name: str = "iris") -> Dataset:
    """The document's split, for any number of classes.

    ``set.seed(seed)``, then for each class k in order: ``sample(rows_k, floor(n_k / 2))``,
    concatenated (training rows in drawn order); the test set is the remaining rows in data
    order. For iris this is exactly main.R's 25 + 25 + 25.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError("X must be (N, D) and y must be (N,)")
    if sample_kind not in SAMPLE_KINDS:
        raise ValueError(f"sample kind must be one of {', '.join(SAMPLE_KINDS)}, "
                         f"got {sample_kind!r}")
    K = int(y.max()) + 1 if class_names is None else len(class_names)
    rng = RRandom(seed)
    train = []
    for k in range(K):
        rows = np.flatnonzero(y == k) + 1  # 1-based, data order
        if rows.size:
            train.append(rows[rng.sample(rows.size, rows.size // 2, sample_kind) - 1])
    train_idx = np.concatenate(train) if train else np.zeros(0, np.int64)
    keep = np.ones(X.shape[0], dtype=bool)
    keep[train_idx - 1] = False
    test_idx = np.flatnonzero(keep) + 1
    return Dataset(
        name=name,
        X_train=X[train_idx - 1], y_train=y[train_idx - 1],
        X_test=X[test_idx - 1], y_test=y[test_idx - 1],
        feature_names=list(feature_names) if feature_names is not None
        else [f"x{i + 1}" for i in range(X.shape[1])],
        class_names=list(class_names) if class_names is not None
        else [str(k + 1) for k in range(K)],
        train_indices=train_idx, test_indices=test_idx,
    )
