"""The math inspector's numbers: every quantity of the document's forward and backward pass.

``anatomy(trainer, rows=i)`` is the document's derivation for training row i taken as a batch
of one (N = 1, as the document explains it); ``anatomy(trainer)`` the same for the whole
training set (shapes N x H, N x K ...). The batch data-loss gradient is the mean over rows of
the one-row gradients (Op.[8]'s 1/N), plus lambda W (Op.[33]).

Entries, in order, with the Op.[n] of the document's text (``../shared/seed/``) they map to:

    x, y, onehot      inputs, ground-truth label, delta_ky           Op.[1], Op.[6]
    W1, b1, W2, b2    parameters                                     Op.[1], Op.[3]
    sigma1            x W1 + b1                                      Op.[1]
    h1                max(0, sigma1); R's hidden.layer                Op.[2]
    sigma2            score = h W2 + b2                              Op.[3]
    e, S              exp(score) (R's score.exp), its row sums        Op.[4], Op.[5]
    probs             q = e / S                                      Op.[5]
    correct_logprobs  -log q_y                                       Op.[6]-[7]
    data_loss         one row: -log q_y (Op.[7]); batch: the mean    Op.[8]
    reg_loss, loss    0.5 lambda sum w^2; L_D + L_R                  Op.[9], Op.[10]
    dscores           q - onehot(y), divided by N for the batch      Op.[14]
    dW2_data, db2     h^T dscores; q - delta (one row) or colSums     Op.[23]/[28]; Op.[17]/[27]
    dhidden1          dscores W2^T                                   Op.[29]
    deriv1            1[h > 0], the ReLU mask (f'(sigma) otherwise)   Op.[30]
    dsigma1           dhidden1 * deriv1 (R: dhidden[h <= 0] <- 0)    Op.[31]
    dW1_data, db1     x^T dsigma1, colSums(dsigma1)                  Op.[32]
    reg_W1, dW1 ...   lambda W1; dW1 = dW1_data + lambda W1          Op.[33]
    W1_next ...       W - lr dW, b - lr db (when lr is known)        Op.[34]

Deeper nets continue the names per layer: sigma1, h1, sigma2, h2, sigma3 (= score), W3 ...;
a hidden-to-hidden weight's gradient follows Op.[32]'s pattern. ``to_plain`` makes it JSON.
"""

from __future__ import annotations

import numpy as np

from . import network
from .activations import ACTIVATIONS

__all__ = ["anatomy", "forward_backward"]

_H_TEX = {"relu": r"\max(0, @)", "tanh": r"\tanh(@)", "sigmoid": r"1 / (1 + e^{-@})",
          "identity": "@"}
_D_TEX = {"relu": r"\mathbf{1}[@ > 0]", "tanh": r"1 - @^2", "sigmoid": r"@ (1 - @)",
          "identity": "1"}
_D_CODE = {"relu": "@ > 0", "tanh": "1 - @^2", "sigmoid": "@ * (1 - @)", "identity": "1"}


def _sup(l) -> str:
    return "^{(" + str(l) + ")}"


def _resolve(source, X, y, activation, reg, lr):
    from .trainer import Trainer

    if isinstance(source, Trainer):
        d, c = source.dataset, source.config
        X = d.X_train if X is None else X
        y = d.y_train if y is None else y
        activation = c.activation if activation is None else activation
        reg = c.reg if reg is None else reg
        lr = c.lr if lr is None else lr
        params = source.params
    elif isinstance(source, dict):
        params = source
        if X is None or y is None:
            raise ValueError("X and y are needed when parameters are given instead of a Trainer")
    else:
        raise ValueError("anatomy needs a Trainer or a dict of parameters W1, b1, ...")
    L = len(params) // 2
    if L < 1 or set(params) != {f"{p}{i}" for i in range(1, L + 1) for p in "Wb"}:
        raise ValueError("parameters must be W1, b1, ..., WL, bL")
    if activation is None:
        activation = "relu"
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[0] or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, {params['W1'].shape[0]}) and y (N,)")
    K = params[f"W{L}"].shape[1]
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"y must hold class numbers from 0 to {K - 1}")
    return params, X, y, activation, float(0.0 if reg is None else reg), lr


def forward_backward(params: dict, X, y, activation: str = "relu", reg: float = 0.0,
                     lr: float | None = None, single: bool = False) -> list[dict]:
    """Entries {name, op, tex, code, title, stage, shape, value} of one forward and backward
    pass on X (N, D), y (N,): the arithmetic of network.forward / softmax_loss / backward.
    ``code`` is the document's R line; ``single`` only changes the formulas and Op numbers."""
    f, df = ACTIVATIONS[activation]
    L, N = len(params) // 2, X.shape[0]
    K = params[f"W{L}"].shape[1]
    xs = "x" if single else "X"
    one = L == 2  # the document's one hidden layer: h, hidden.layer, dhidden unnumbered
    hs_ = (lambda k: "h") if one else (lambda k: "{h" + _sup(k) + "}")
    hc = (lambda k: "hidden.layer") if one else (lambda k: f"hidden.layer{k}")
    dc = (lambda k: "dhidden") if one else (lambda k: f"dhidden{k}")
    out = []

    def add(name, value, op, tex, code, title, stage):
        out.append({"name": name, "op": op, "tex": tex, "code": code, "title": title,
                    "stage": stage, "shape": list(np.shape(value)), "value": value})

    rows = np.arange(N)
    onehot = np.zeros((N, K))
    onehot[rows, y] = 1.0
    add("x", X, "Op.[1]", xs, "X", "input features", "input")
    add("y", int(y[0]) if single else y, "Op.[6]", "y", "Y", "true class (0-based)", "input")
    add("onehot", onehot, "Op.[6]", r"\delta_{ky}", "Y.index", "true class, one-hot", "input")
    for l in range(1, L + 1):
        op = "Op.[3]" if l == L else "Op.[1]"
        add(f"W{l}", params[f"W{l}"], op, "W" + _sup(l), f"W{l}", f"weights of layer {l}", "param")
        add(f"b{l}", params[f"b{l}"], op, "b" + _sup(l), f"b{l}", f"biases of layer {l}", "param")
    with np.errstate(all="ignore"):  # a diverging run's numbers may overflow: shown as they are
        a, a_sym, a_code, hs = X, xs, "X", []
        for l in range(1, L):
            s = _sup(l)
            sigma = a @ params[f"W{l}"] + params[f"b{l}"]
            add(f"sigma{l}", sigma, "Op.[1]", rf"\sigma{s} = {a_sym} W{s} + b{s}",
                f"{a_code} %*% W{l} + b{l}", f"pre-activation of hidden layer {l}", "forward")
            a = f(sigma)
            add(f"h{l}", a, "Op.[2]", f"{hs_(l)} = " + _H_TEX[activation].replace(
                "@", r"\sigma" + s), f"{hc(l)} <- pmax({hc(l)}, 0)" if activation == "relu"
                else f"{hc(l)} <- {activation}({hc(l)})", f"hidden layer {l}", "forward")
            hs.append(a)
            a_sym, a_code = hs_(l), hc(l)
        s = _sup(L)
        score = a @ params[f"W{L}"] + params[f"b{L}"]
        add(f"sigma{L}", score, "Op.[3]", rf"\mathrm{{score}} = \sigma{s} = {a_sym} W{s} + b{s}",
            f"score <- {a_code} %*% W{L} + b{L}", "class scores", "forward")
        e = np.exp(score)
        add("e", e, "Op.[4]", rf"e_k = \exp(\sigma{s}_k)", "score.exp <- exp(score)",
            "exp(score); may overflow to inf, which is why mlpcore subtracts the row maximum",
            "forward")
        add("S", e.sum(axis=1, keepdims=True), "Op.[5]", r"S = \sum_{k=1}^{K} e_k",
            "rowSums(score.exp)", "sum of e per row", "forward")
        shifted = np.exp(score - score.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        add("probs", probs, "Op.[5]", r"q_k = \frac{e_k}{S}",
            "probs <- score.exp / rowSums(score.exp)",
            "class probabilities (computed as exp(score - max) / sum: the same q)", "forward")
        clp = -np.log(probs[rows, y])
        add("correct_logprobs", clp, "Op.[6]-[7]", r"L_{D_i} = -\log q_{y_i}",
            "correct.logprobs <- -log(probs[Y.index])", "-log of the true class's probability",
            "forward")
        data_loss = float(clp.sum() / N)
        add("data_loss", data_loss, "Op.[7]" if single else "Op.[8]",
            r"L_D = -\log q_y" if single else r"L_D = \frac{1}{N} \sum_{i=1}^{N} -\log q_{y_i}",
            "data.loss <- sum(correct.logprobs) / batchsize", "data loss", "forward")
        reg_loss = network.reg_loss(params, reg)
        add("reg_loss", reg_loss, "Op.[9]",
            r"L_R = \frac{1}{2} \lambda \sum_{l} \sum_{k,j} \big(w^{(l)}_{kj}\big)^2",
            "reg.loss <- 0.5 * reg * (" + " + ".join(f"sum(W{l} * W{l})"
                                                      for l in range(1, L + 1)) + ")",
            "regularisation loss", "forward")
        add("loss", data_loss + reg_loss, "Op.[10]", "L = L_D + L_R",
            "loss <- data.loss + reg.loss", "loss", "forward")

        dout = (probs - onehot) / N
        add("dscores", dout, "Op.[14]",
            rf"\frac{{\partial L_D}}{{\partial \sigma{s}_k}} = q_k - \delta_{{ky}}" if single
            else r"\mathrm{dscores} = \frac{1}{N} \big(q - \mathrm{onehot}(y)\big)",
            "dscores <- probs; dscores[Y.index] <- dscores[Y.index] - 1; "
            "dscores <- dscores / batchsize", "gradient of the data loss w.r.t. the scores",
            "backward")
        dz, dz_code = r"\mathrm{dscores}", "dscores"
        grads = {}
        for l in range(L, 0, -1):
            s = _sup(l)
            a_in, a_sym, a_code = (hs[l - 2], hs_(l - 1), hc(l - 1)) if l > 1 else (X, xs, "X")
            dW, db = a_in.T @ dout, dout.sum(axis=0, keepdims=True)
            grads[f"W{l}"], grads[f"b{l}"] = dW, db
            add(f"dW{l}_data", dW, ("Op.[23]" if single else "Op.[28]") if l == L else "Op.[32]",
                rf"\frac{{\partial L_D}}{{\partial W{s}}} = {a_sym}^{{T}} \cdot {dz}",
                f"dW{l} <- t({a_code}) %*% {dz_code}", f"data-loss gradient of W{l}", "backward")
            add(f"db{l}", db, ("Op.[17]" if single else "Op.[27]") if l == L else "Op.[32]",
                rf"\frac{{\partial L_D}}{{\partial b{s}}} = \mathrm{{colSums}}({dz})",
                f"db{l} <- colSums({dz_code})", f"gradient of b{l}", "backward")
            if l > 1:
                k = l - 1
                dname = r"\mathrm{dhidden}" + ("" if one else _sup(k))
                dhidden = dout @ params[f"W{l}"].T
                add(f"dhidden{k}", dhidden, "Op.[29]", rf"{dname} = {dz} \cdot W^{{({l})T}}",
                    f"{dc(k)} <- {dz_code} %*% t(W{l})", f"gradient w.r.t. hidden layer {k}",
                    "backward")
                deriv = df(hs[k - 1])
                dtex = _D_TEX[activation].replace("@", hs_(k))
                add(f"deriv{k}", deriv, "Op.[30]",
                    rf"\frac{{\partial {hs_(k)}}}{{\partial \sigma{_sup(k)}}} = {dtex}",
                    _D_CODE[activation].replace("@", hc(k)),
                    "ReLU mask: 1 where the unit is active" if activation == "relu"
                    else f"derivative of {activation}", "backward")
                dout = dhidden * deriv
                dz = rf"\frac{{\partial L_D}}{{\partial \sigma{_sup(k)}}}"
                add(f"dsigma{k}", dout, "Op.[31]", rf"{dz} = {dname} \odot " + (
                    dtex if activation in ("relu", "identity") else f"({dtex})"),
                    f"{dc(k)}[{hc(k)} <= 0] <- 0" if activation == "relu"
                    else f"{dc(k)} <- {dc(k)} * ({_D_CODE[activation].replace('@', hc(k))})",
                    f"gradient w.r.t. sigma{k}", "backward")
                dz_code = dc(k)
        for l in range(1, L + 1):
            s, W = _sup(l), params[f"W{l}"]
            add(f"reg_W{l}", reg * W, "Op.[33]", r"\lambda W" + s, f"reg * W{l}",
                f"regularisation gradient of W{l}", "backward")
            grads[f"W{l}"] = grads[f"W{l}"] + reg * W
            add(f"dW{l}", grads[f"W{l}"], "Op.[33]",
                rf"dW{s} = \frac{{\partial L_D}}{{\partial W{s}}} + \lambda W{s}",
                f"dW{l} <- dW{l} + reg * W{l}", f"gradient of W{l}", "backward")
        if lr is not None:
            for l in range(1, L + 1):
                for p in "Wb":
                    add(f"{p}{l}_next", params[f"{p}{l}"] - lr * grads[f"{p}{l}"], "Op.[34]",
                        rf"{p}{_sup(l)} \leftarrow {p}{_sup(l)} - \alpha \, d{p}{_sup(l)}",
                        f"{p}{l} <- {p}{l} - lr * d{p}{l}", f"{p}{l} after this update", "update")
    return out


def anatomy(source, X=None, y=None, activation: str | None = None, reg: float | None = None,
            rows: int | None = None, lr: float | None = None) -> dict:
    """Every quantity of the forward and backward pass, named as in the document.

    source: a Trainer (X, y default to its training set; activation, reg, lr to its config)
    or a dict of parameters (then X (N, D) and y (N,) 0-based are required). rows: None for
    the whole batch, or a 0-based row of X for that row alone as a batch of one.
    Returns {"mode": "sample" | "batch", "row", "N", "n_rows", "sizes", "activation", "reg",
    "lr", "label", "entries": [{"name", "op", "tex", "code", "title", "stage", "shape",
    "value"}, ...], "notes": [str, ...]}. Values are numpy arrays or floats (see to_plain).
    """
    params, X, y, activation, reg, lr = _resolve(source, X, y, activation, reg, lr)
    n_rows, notes = X.shape[0], []
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) \
                or not 0 <= rows < n_rows:
            raise ValueError(f"rows must be None or a row number from 0 to {n_rows - 1}")
        rows = int(rows)
        Xv, yv = X[rows:rows + 1], y[rows:rows + 1]
        notes.append(f"Row {rows} alone, as a batch of one (N = 1), as the document derives it; "
                     f"the batch gradient is the mean of such rows' gradients over all {n_rows} "
                     f"rows, plus lambda W.")
    else:
        Xv, yv = X, y
    dataset = getattr(source, "dataset", None)
    if dataset is not None and getattr(dataset, "standardized", False):
        notes.append("x is the standardised input (raw - centre) / scale that the network sees.")
    batch = getattr(getattr(source, "config", None), "batch_size", None)
    if rows is None and batch is not None and batch < n_rows:
        notes.append(f"This run trains on mini-batches of {batch} rows; the batch view shows the "
                     f"whole training set (N = {n_rows}).")
    L = len(params) // 2
    sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1] for l in range(1, L + 1)]
    return {"mode": "batch" if rows is None else "sample", "row": rows, "N": Xv.shape[0],
            "n_rows": n_rows, "sizes": sizes, "activation": activation, "reg": reg, "lr": lr,
            "label": None if rows is None else int(yv[0]),
            "entries": forward_backward(params, Xv, yv, activation, reg, lr, rows is not None),
            "notes": notes}
