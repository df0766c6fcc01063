"""Train/test splits and feature standardisation for any labelled data.

Two splits, both drawn class by class in level order from one R-compatible generator:

- ``"document"`` (the default, main.R's): ``sample(rows_k, floor(n_k / 2))`` per class. On
  iris with a fresh ``RRandom(seed)`` this is exactly ``data.document_split`` (a test checks).
- ``"fraction"``: ``sample(rows_k, m_k)`` with ``m_k = floor(f * n_k + 0.5)``, kept within
  1 .. n_k - 1 so every class has training and test rows (stratified).

Training rows come in drawn order, test rows are the rest in data order (as R's
``data[samp, ]`` and ``data[-samp, ]``). Every class needs at least 2 rows.

Standardisation (off by default, as in the document): center = column means and scale =
column standard deviations (R's ``sd``, n - 1) of the *training* rows, applied to training
and test rows and kept in the Dataset (``Dataset.transform`` for new points). A constant
column (sd 0, or a single training row) gets scale 1; values too large for float64
arithmetic (sd overflows, above about 1e154) are a DataError.
"""

from __future__ import annotations

import math

import numpy as np

from .config import real_value
from .data import DataError, Dataset
from .rrandom import SAMPLE_KINDS, RRandom

__all__ = ["SPLITS", "TRAIN_FRACTION", "check_seed", "split_indices", "standardization",
           "split_dataset"]

SPLITS = ("document", "fraction")
# the train fraction's slider: (min, max, step, default); split_dataset accepts any 0 < f < 1
TRAIN_FRACTION = {"min": 0.1, "max": 0.9, "step": 0.05, "default": 0.7}


def check_seed(seed) -> int:
    """seed as an int, or DataError (the range of Config.seed and R's set.seed)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
            not -(2**31) < seed < 2**31:
        raise DataError(f"seed must be a whole number from {-(2**31) + 1} to {2**31 - 1}, "
                        f"got {seed!r}")
    return int(seed)


def _check(split: str, train_fraction, sample_kind: str) -> float | None:
    if split not in SPLITS:
        raise DataError(f'split must be "document" or "fraction", got {split!r}')
    if sample_kind not in SAMPLE_KINDS:
        raise DataError(f"sample kind must be one of {', '.join(SAMPLE_KINDS)}, "
                        f"got {sample_kind!r}")
    if split == "document":
        if train_fraction is not None:
            raise DataError('a train fraction applies only to split="fraction" '
                            '(the document\'s split takes half of each class)')
        return None
    if train_fraction is None:
        return TRAIN_FRACTION["default"]
    f = real_value(train_fraction)
    if not 0.0 < f < 1.0:  # also catches NaN
        raise DataError(f"the train fraction must be a number greater than 0 and less than 1, "
                        f"got {train_fraction!r}")
    return f


def split_indices(y, class_names, rng: RRandom, split: str = "document",
                  train_fraction: float | None = None, sample_kind: str = "rounding"):
    """(train_indices, test_indices): 1-based int64 rows of y (N,), drawn from ``rng``.

    Raises DataError if a class has fewer than 2 rows.
    """
    f = _check(split, train_fraction, sample_kind)
    y = np.asarray(y)
    train = []
    for k, name in enumerate(class_names):
        rows = np.flatnonzero(y == k) + 1  # 1-based, data order
        n = rows.size
        if n < 2:
            raise DataError(f'class "{name}" has {n} row{"" if n == 1 else "s"}; every class '
                            f"needs at least 2 rows (one to train on, one to test on)")
        m = n // 2 if f is None else min(max(math.floor(f * n + 0.5), 1), n - 1)
        train.append(rows[rng.sample(n, m, sample_kind) - 1])
    train_idx = np.concatenate(train)
    keep = np.ones(y.shape[0], dtype=bool)
    keep[train_idx - 1] = False
    return train_idx, np.flatnonzero(keep) + 1


def standardization(X_train) -> tuple[np.ndarray, np.ndarray]:
    """(center, scale), each (D,): column means and R's sd (n - 1) of X_train (N, D);
    scale 1 where the sd is 0 (or there is one row). Either may be inf where values are huge."""
    X_train = np.asarray(X_train, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        center = X_train.mean(axis=0)
        if X_train.shape[0] < 2:
            return center, np.ones_like(center)
        scale = X_train.std(axis=0, ddof=1)
    scale[scale == 0] = 1.0
    return center, scale


def split_dataset(X, y, feature_names, class_names, *, name: str, seed: int = 1,
                  rng: RRandom | None = None, split: str = "document",
                  train_fraction: float | None = None, standardize: bool = False,
                  sample_kind: str = "rounding") -> Dataset:
    """A Dataset from X (N, D), y (N,) in 0..K-1: split, then (optionally) standardised.

    The draws come from ``rng`` if given (e.g. the generator that just made the data),
    else from a fresh ``RRandom(seed)`` (R's ``set.seed(seed)`` before the split).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if rng is None:
        rng = RRandom(check_seed(seed))
    train_idx, test_idx = split_indices(y, class_names, rng, split, train_fraction,
                                        sample_kind)
    X_train, X_test = X[train_idx - 1], X[test_idx - 1]
    center = scale = None
    if standardize:
        center, scale = standardization(X_train)
        bad = ~(np.isfinite(center) & np.isfinite(scale))
        if bad.any():
            raise DataError(f'the values of feature "{feature_names[int(np.argmax(bad))]}" are '
                            f"too large to standardise")
        X_train, X_test = (X_train - center) / scale, (X_test - center) / scale
    return Dataset(name=name, X_train=X_train, y_train=y[train_idx - 1], X_test=X_test,
                   y_test=y[test_idx - 1], feature_names=list(feature_names),
                   class_names=list(class_names), train_indices=train_idx,
                   test_indices=test_idx, feature_center=center, feature_scale=scale)
