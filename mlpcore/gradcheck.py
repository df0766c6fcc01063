"""Numerical gradient checks, as CS231n's gradient_check.py (central differences, float64)."""

from __future__ import annotations

import numpy as np

from . import network

__all__ = ["rel_error", "numerical_gradient", "check_params"]


def rel_error(x, y) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), element-wise."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """df/dx by central differences; f() reads x, which is perturbed in place and restored."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def check_params(params: dict, X, y, reg: float = 0.0, activation: str = "relu",
                 h: float = 1e-5) -> dict:
    """{name: max relative error} of network.backward against numerical_gradient."""
    grads = network.loss_and_grads(params, X, y, reg, activation)[3]

    def loss():
        score = network.forward(params, X, activation)[0]
        return network.softmax_loss(score, y)[0] + network.reg_loss(params, reg)

    return {name: rel_error(grads[name], numerical_gradient(loss, params[name], h))
            for name in params}
