"""Flat parameter layout and the transposed row buffers the engine works in."""

from __future__ import annotations

import numpy as np

__all__ = ["layout", "views", "Rows", "Scratch"]


def layout(sizes):
    """[(offset, fan_in, fan_out)] of each [W; b] block of theta, and theta's length."""
    blocks, offset = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        blocks.append((offset, fan_in, fan_out))
        offset += (fan_in + 1) * fan_out
    return blocks, offset


def views(flat, sizes):
    return [flat[o:o + (i + 1) * j].reshape(i + 1, j) for o, i, j in layout(sizes)[0]]


class Rows:
    """n rows of data, transposed: Xa = t([X, 1]) (D+1, n), onehot (K, n), labels."""

    def __init__(self, D, K, n):
        self.n = n
        self.Xa = np.ones((D + 1, n))
        self.onehot = np.zeros((K, n))
        self.y = np.zeros(n, dtype=np.int64)
        self.yidx = np.zeros(n, dtype=np.int64)  # flat positions of probs[y_i, i]

    def set(self, X, y):
        self.Xa[:-1] = X.T
        self.set_labels(y)
        return self

    def set_labels(self, y):
        self.y[:] = y
        self.onehot.fill(0.0)
        np.add(self.y * self.n, np.arange(self.n), out=self.yidx)
        self.onehot.ravel()[self.yidx] = 1.0


class Scratch:
    """Work buffers for a block of n rows (transposed)."""

    def __init__(self, sizes, n):
        K = sizes[-1]
        self.hidden = [np.ones((h + 1, n)) for h in sizes[1:-1]]  # t([hidden_layer, 1])
        self.deriv = [np.empty((h, n)) for h in sizes[1:-1]]  # f'(hidden_layer)
        self.dhidden = [np.empty((h, n)) for h in sizes[1:-1]]
        self.score, self.probs, self.dscores = (np.empty((K, n)) for _ in range(3))
        self.rowsum = np.empty((K, n))  # rowSums(score.exp), repeated on every row
        self.rowmax, self.logp, self.ones = np.empty(n), np.empty(n), np.ones(n)
        self.pred = np.empty(n, dtype=np.int64)
        self.hit = np.empty(n, dtype=bool)
