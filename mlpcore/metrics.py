"""Accuracy and confusion matrix."""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion"]


def accuracy(y_true, y_pred) -> float:
    """mean(y_true == y_pred); NaN for no rows."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred must have the same shape")
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(K, K) int64 counts: rows = true class, columns = predicted (R's table(true, pred))."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred must have the same shape")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
