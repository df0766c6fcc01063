"""The document's network as paired pure functions (CS231n style), any number of layers.

    hidden_layer = f(X W1 + b1)            Op.[1]-[2]   (f = ReLU in the document)
    score        = hidden_layer W2 + b2    Op.[3]
    probs        = softmax(score)          Op.[4]-[5]   (row maximum subtracted first)
    data_loss    = mean(-log probs[y])     Op.[6]-[8]
    reg_loss     = 0.5 reg sum(W^2)        Op.[9]

With hidden=(16, 8) the names continue: W1, b1, W2, b2, W3, b3. These functions allocate
and are the readable reference; `engine.py` computes the same numbers in place, fast.
Shapes: X (N, D); W1 (D, H); b1 (1, H); ...; the last W is (H_last, K).
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS
from .rrandom import RRandom

__all__ = ["layer_sizes", "init_params", "forward", "backward", "softmax_loss", "reg_loss",
           "loss_and_grads", "predict", "predict_proba"]


def layer_sizes(D: int, hidden, K: int) -> list[int]:
    """[D, H1, ..., K]."""
    return [int(D), *(int(h) for h in hidden), int(K)]


def init_params(sizes, rng: RRandom, init_scale: float = 0.01) -> dict:
    """``W <- init_scale * matrix(rnorm(fan_in * fan_out), fan_in, fan_out)``; b <- 0.

    Drawn W1 first, then W2, ..., from the one generator; R's matrix() fills column-major.
    """
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        draws = rng.rnorm(fan_in * fan_out)
        params[f"W{i}"] = init_scale * draws.reshape(fan_out, fan_in).T.copy()
        params[f"b{i}"] = np.zeros((1, fan_out))
    return params


def _n_layers(params) -> int:
    return len(params) // 2


def forward(params: dict, X: np.ndarray, activation: str = "relu"):
    """Returns (score (N, K), cache) where cache = (X, [hidden_layer per hidden layer])."""
    f = ACTIVATIONS[activation][0]
    L = _n_layers(params)
    hidden_layers = []
    a = X
    for i in range(1, L):
        a = f(a @ params[f"W{i}"] + params[f"b{i}"])  # Op.[1]-[2]
        hidden_layers.append(a)
    score = a @ params[f"W{L}"] + params[f"b{L}"]  # Op.[3]
    return score, (X, hidden_layers)


def softmax_loss(score: np.ndarray, y: np.ndarray):
    """Returns (data_loss, dscores (N, K)); y (N,) holds 0-based class numbers."""
    N = score.shape[0]
    score_exp = np.exp(score - score.max(axis=1, keepdims=True))  # Op.[4], overflow-safe
    probs = score_exp / score_exp.sum(axis=1, keepdims=True)  # Op.[5]
    rows = np.arange(N)
    correct_logprobs = -np.log(probs[rows, y])  # Op.[6]-[7]
    data_loss = correct_logprobs.sum() / N  # Op.[8]
    dscores = probs.copy()
    dscores[rows, y] -= 1.0  # Op.[14]: probs - onehot(y)
    dscores /= N
    return float(data_loss), dscores


def reg_loss(params: dict, reg: float) -> float:
    """Op.[9]: 0.5 * reg * (sum(W1 * W1) + sum(W2 * W2) + ...)."""
    L = _n_layers(params)
    return 0.5 * reg * sum(float(np.sum(params[f"W{i}"] ** 2)) for i in range(1, L + 1))


def backward(dscores: np.ndarray, cache, params: dict, activation: str = "relu",
             reg: float = 0.0) -> dict:
    """Gradients of data_loss + reg_loss; same keys and shapes as params."""
    df = ACTIVATIONS[activation][1]
    X, hidden_layers = cache
    L = _n_layers(params)
    grads = {}
    dout = dscores
    for i in range(L, 0, -1):
        a_in = hidden_layers[i - 2] if i > 1 else X
        grads[f"W{i}"] = a_in.T @ dout + reg * params[f"W{i}"]  # Op.[28] + Op.[33]
        grads[f"b{i}"] = dout.sum(axis=0, keepdims=True)  # Op.[27]
        if i > 1:
            dhidden = dout @ params[f"W{i}"].T  # Op.[29]
            dout = dhidden * df(hidden_layers[i - 2])  # Op.[30]-[31]
    return grads


def loss_and_grads(params: dict, X, y, reg: float = 0.0, activation: str = "relu"):
    """(loss, data_loss, reg_loss, grads) on (X, y) with the given params."""
    score, cache = forward(params, X, activation)
    data_loss, dscores = softmax_loss(score, y)
    rl = reg_loss(params, reg)
    return data_loss + rl, data_loss, rl, backward(dscores, cache, params, activation, reg)


def predict_proba(params: dict, X, activation: str = "relu") -> np.ndarray:
    """Class probabilities (N, K)."""
    score = forward(params, np.asarray(X, dtype=np.float64), activation)[0]
    e = np.exp(score - score.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predict(params: dict, X, activation: str = "relu") -> np.ndarray:
    """predict.dnn: arg-max class per row, 0-based (first maximum on ties)."""
    return forward(params, np.asarray(X, dtype=np.float64), activation)[0].argmax(axis=1)
