"""Hidden-layer activations: name -> (f, df), as scikit-learn's ``_base.py`` registries.

``f(z, out=None)`` maps pre-activations to the hidden layer; ``df(h, out=None)`` is the
derivative dh/dz written **in terms of the output h**, as the document does for ReLU
(``dhidden[hidden.layer <= 0] <- 0``). Both accept ``out=`` so the trainer can reuse buffers.
"""

from __future__ import annotations

import numpy as np

_ZERO, _ONE = np.zeros(()), np.ones(())  # 0-d arrays: cheaper scalars for ufuncs than floats

__all__ = ["ACTIVATIONS", "relu", "relu_grad", "tanh", "tanh_grad", "sigmoid", "sigmoid_grad",
           "identity", "identity_grad"]


def relu(z, out=None):
    """Op.[2]: max(0, z)."""
    return np.maximum(z, _ZERO, out=out)


def relu_grad(h, out=None):
    """Op.[30]: 1 where h > 0, else 0."""
    if out is None:
        return (h > 0).astype(np.float64)
    if h.size <= 4096:  # h >= 0, so sign(h) is the same 1/0; faster on small arrays
        return np.sign(h, out=out)
    return np.greater(h, _ZERO, out=out)


def tanh(z, out=None):
    return np.tanh(z, out=out)


def tanh_grad(h, out=None):
    """1 - h^2."""
    out = np.multiply(h, h, out=out)
    return np.subtract(_ONE, out, out=out)


def sigmoid(z, out=None):
    """1 / (1 + exp(-z))."""
    out = np.negative(z, out=out)
    np.exp(out, out=out)
    np.add(out, _ONE, out=out)
    return np.reciprocal(out, out=out)


def sigmoid_grad(h, out=None):
    """h (1 - h)."""
    out = np.subtract(_ONE, h, out=out)
    return np.multiply(out, h, out=out)


def identity(z, out=None):
    if out is None:
        return np.array(z, dtype=np.float64, copy=True)
    np.copyto(out, z)
    return out


def identity_grad(h, out=None):
    """1 everywhere."""
    if out is None:
        return np.ones_like(h)
    out.fill(1.0)
    return out


ACTIVATIONS = {
    "relu": (relu, relu_grad),
    "tanh": (tanh, tanh_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "identity": (identity, identity_grad),
}
