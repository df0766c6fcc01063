"""Numerical gradient checks, as CS231n's gradient_check.py (central differences, float64)."""

from __future__ import annotations

import numpy as np

from . import network

__all__ = ["rel_error", "numerical_gradient", "check_params", "gradient_report", "GOOD",
           "ACCEPTABLE", "WRONG", "VERDICTS"]


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


# -- the report behind the dashboard's gradient-check panel ------------------------------------
GOOD, ACCEPTABLE, WRONG = 1e-7, 1e-4, 1e-2  # CS231n's rule of thumb for max relative error
VERDICTS = ("good", "acceptable", "kink", "suspect", "wrong", "unavailable")  # best to worst
_MESSAGES = {
    "good": "analytic and numerical gradients agree (relative error <= 1e-7, or a difference "
            "at float64 round-off).",
    "acceptable": "they agree to within 1e-4: acceptable, though better is usual in float64.",
    "kink": "a ReLU kink was crossed (a hidden unit's pre-activation changed sign within +-h), "
            "so the numerical gradient is unreliable there; the other entries agree.",
    "suspect": "relative error between 1e-4 and 1e-2: suspicious; look at the worst entry.",
    "wrong": "relative error above 1e-2: the analytic gradient is probably wrong.",
    "unavailable": "the loss is not finite at these parameters, so nothing can be compared.",
}


def _level(r: float) -> str:
    return "good" if r <= GOOD else "acceptable" if r <= ACCEPTABLE else \
        "suspect" if r <= WRONG else "wrong"


def gradient_report(source, X=None, y=None, activation: str | None = None,
                    reg: float | None = None, h: float = 1e-5, max_per_tensor: int | None = None,
                    seed: int = 0, budget: float = 2e8) -> dict:
    """Analytic (network.backward) vs central-difference gradients of the full loss, per tensor.

    source: a Trainer (its training set and config) or a dict of params with X, y.
    h = 1e-5: truncation error ~h^2 and round-off ~eps |L| / h are both ~1e-10 or less.
    Per entry: rel_error = |a - n| / max(1e-8, |a| + |n|) (so ``max_rel_error`` equals
    check_params'); ``within_noise`` when |a - n| <= noise_floor = 10 eps max(1, |L|,
    max |score|) / h, the round-off of the difference quotient (tiny entries, e.g. 1e-9,
    cannot be checked more finely in float64); ``kink`` when a hidden ReLU unit's
    pre-activation changed sign on some row at theta +- h. The verdict uses ``judged_error``,
    the max rel_error over entries without a kink, those within noise counted as at most 1e-7:
    good <= 1e-7 < acceptable <= 1e-4 < suspect <= 1e-2 < wrong; "kink" when only
    kink-crossing entries are worse than acceptable; "unavailable" when the loss is not finite.
    Every entry is checked unless that costs more than ``budget`` multiply-adds; then (or with
    ``max_per_tensor``) a seeded random subset per tensor, at least 3 entries.
    Returns {"h", "noise_floor", "thresholds", "verdict", "message", "checked", "total",
    "kink_crossed", "tensors": [{"name", "shape", "size", "checked", "max_rel_error",
    "judged_error", "kinks", "worst", "verdict", "message", "entries": [{"index", "analytic",
    "numerical", "rel_error", "within_noise", "kink"}, ...]}, ...]}; "worst" is the entry with
    the largest rel_error, or None.
    """
    from .anatomy import _resolve

    if not (isinstance(h, (int, float)) and 0 < h < 1):
        raise ValueError(f"h must be a number between 0 and 1, got {h!r}")
    params, X, y, activation, reg, _ = _resolve(source, X, y, activation, reg, None)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    relu = activation == "relu"

    def evaluate():
        score, (_, hidden) = network.forward(params, X, activation)
        loss = network.softmax_loss(score, y)[0] + network.reg_loss(params, reg)
        return loss, [hl > 0 for hl in hidden] if relu else [], score

    with np.errstate(all="ignore"):
        base_loss, base, score = evaluate()
        grads = network.loss_and_grads(params, X, y, reg, activation)[3]
    ok = bool(np.isfinite(base_loss) and np.isfinite(score).all())
    noise = 10 * np.finfo(float).eps * max(1.0, abs(base_loss), float(np.abs(score).max()
                                                                       if ok else 0.0)) / h
    macs = X.shape[0] * sum(v.size for k, v in params.items() if k[0] == "W")
    n_auto = max(3, int(budget // (2 * max(macs, 1) * len(params))))
    limit = n_auto if max_per_tensor is None else max(1, int(max_per_tensor))
    tensors = []
    for t, (name, p) in enumerate(params.items()):
        flat, g = p.reshape(-1), grads[name].reshape(-1)
        idx = np.arange(p.size) if p.size <= limit else np.sort(
            np.random.default_rng([seed, t]).choice(p.size, limit, replace=False))
        entries = []
        for j in idx if ok else ():
            old, crossed, losses = flat[j], False, []
            for v in (old + h, old - h):
                flat[j] = v
                with np.errstate(all="ignore"):
                    lv, masks, _ = evaluate()
                losses.append(lv)
                crossed = crossed or any(not np.array_equal(m, b)
                                         for m, b in zip(masks, base, strict=True))
            flat[j] = old
            num = (losses[0] - losses[1]) / (2 * h)
            entries.append({"index": [int(i) for i in np.unravel_index(j, p.shape)],
                            "analytic": float(g[j]), "numerical": float(num),
                            "rel_error": rel_error(g[j], num),
                            "within_noise": bool(abs(g[j] - num) <= noise), "kink": crossed})
        tensors.append(_tensor_verdict(name, p, entries, ok))
    verdict = VERDICTS[max((VERDICTS.index(r["verdict"]) for r in tensors), default=0)]
    checked, total = sum(r["checked"] for r in tensors), sum(r["size"] for r in tensors)
    return {"h": h, "noise_floor": float(noise), "verdict": verdict,
            "thresholds": {"good": GOOD, "acceptable": ACCEPTABLE, "wrong": WRONG},
            "checked": checked, "total": total, "kink_crossed": any(r["kinks"] for r in tensors),
            "message": f"Checked {checked} of {total} gradient entries (central differences, "
                       f"h = {h:g}, float64): {_MESSAGES[verdict]}", "tensors": tensors}


def _tensor_verdict(name, p, entries, ok) -> dict:
    judged = [min(e["rel_error"], GOOD) if e["within_noise"] else e["rel_error"]
              for e in entries if not e["kink"]]
    kinked = [e["rel_error"] for e in entries if e["kink"] and not e["within_noise"]]
    kinks = sum(e["kink"] for e in entries)
    worst = max(entries, key=lambda e: e["rel_error"]) if entries else None
    r = max(judged, default=0.0)
    verdict = _level(r) if ok else "unavailable"
    if verdict in ("good", "acceptable") and _level(max(kinked, default=0.0)) in ("suspect",
                                                                                  "wrong"):
        verdict = "kink"
    message = _MESSAGES[verdict]
    if verdict == "kink":
        agree = "to within 1e-7" if r <= GOOD else f"(max relative error {r:.1e})"
        message = (f"{kinks} of {len(entries)} entries crossed a ReLU kink: the numerical "
                   f"gradient is unreliable there; the others agree {agree}.")
    return {"name": name, "shape": list(p.shape), "size": int(p.size), "checked": len(entries),
            "max_rel_error": max((e["rel_error"] for e in entries), default=None),
            "judged_error": r if ok else None, "kinks": int(kinks), "worst": worst,
            "verdict": verdict, "message": message, "entries": entries}
