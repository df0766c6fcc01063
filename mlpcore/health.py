"""Training health: the loss split, dead ReLU units, update/weight ratios, gradient norms, and
short plain-language hints about what they mean.

    report = health(trainer)            # one forward + backward pass on the training set
    for hint in health_hints(trainer, report):
        print(hint["severity"], hint["message"])

Thresholds (rules of thumb, CS231n's "ratio of updates to weights ~1e-3"): an update/weight
ratio ||lr dW|| / ||W|| above RATIO_HIGH (0.1) is a warning, above RATIO_EXTREME (1) an error,
below RATIO_LOW (1e-5) learning is slow. A unit is dead when it outputs 0 on every training
row. The loss is stuck at chance when the data loss stayed within 1% of the entropy of the
class frequencies (log K for balanced classes), and flat, over the last >= 250 iterations.
"""

from __future__ import annotations

import math

import numpy as np

from . import network
from .divergence import explain_divergence

__all__ = ["health", "health_hints", "RATIO_HIGH", "RATIO_EXTREME", "RATIO_LOW", "SEVERITIES"]

RATIO_HIGH, RATIO_EXTREME, RATIO_LOW = 0.1, 1.0, 1e-5
SEVERITIES = ("error", "warning", "info")
STUCK_SPAN = 250  # iterations of history a "stuck at chance" verdict needs


def health(trainer, since: int = 0) -> dict:
    """Health figures at the trainer's current parameters, on its training set.

    Returns {"iteration", "status", "lr", "reg", "activation", "chance_loss", "balanced",
    "current": {"loss", "data_loss", "reg_loss", "reg_share"}, "history": {"step", "loss",
    "data_loss", "reg_loss"} (entries from index ``since``), "dead": [{"layer", "units",
    "dead", "fraction"}] per hidden layer (ReLU only, else []), "layers": [{"layer", "weight",
    "weight_norm", "grad_norm", "update_norm", "update_ratio"}] per weight matrix,
    "grad_norms": {param: ||grad||} (data + reg gradient, Frobenius norms)}.
    """
    d, c, params = trainer.dataset, trainer.config, trainer.params
    with np.errstate(all="ignore"):
        score, cache = network.forward(params, d.X_train, c.activation)
        data_loss, dscores = network.softmax_loss(score, d.y_train)
        reg_loss = network.reg_loss(params, c.reg)
        grads = network.backward(dscores, cache, params, c.activation, c.reg)
        norms = {k: float(np.linalg.norm(g)) for k, g in grads.items()}
        layers = []
        for l in range(1, len(params) // 2 + 1):
            wn, gn = float(np.linalg.norm(params[f"W{l}"])), norms[f"W{l}"]
            layers.append({"layer": l, "weight": f"W{l}", "weight_norm": wn, "grad_norm": gn,
                           "update_norm": c.lr * gn,
                           "update_ratio": c.lr * gn / wn if wn > 0 else math.inf})
    dead = []
    if c.activation == "relu":
        for l, h in enumerate(cache[1], start=1):
            n = int(np.sum(~np.any(h > 0, axis=0)))
            dead.append({"layer": l, "units": h.shape[1], "dead": n, "fraction": n / h.shape[1]})
    freq = np.bincount(d.y_train, minlength=d.n_classes) / len(d.y_train)
    loss = data_loss + reg_loss
    hist = trainer.history.since(since)
    return {"iteration": trainer.iteration, "status": trainer.status, "lr": c.lr, "reg": c.reg,
            "activation": c.activation,
            "chance_loss": float(-np.sum(freq[freq > 0] * np.log(freq[freq > 0]))),
            "balanced": bool(np.all(freq == freq[0])),
            "current": {"loss": loss, "data_loss": data_loss, "reg_loss": reg_loss,
                        "reg_share": reg_loss / loss if loss > 0 else 0.0},
            "history": {k: hist[k] for k in ("step", "loss", "data_loss", "reg_loss")},
            "dead": dead, "layers": layers, "grad_norms": norms}


def _stuck(trainer, chance: float) -> int | None:
    """Iterations the data loss has stayed flat (within 0.2%) and within 1% of chance, over
    the last 2 * STUCK_SPAN iterations of history (None: not stuck, or too early to say)."""
    h = trainer.history
    if not h.step:
        return None
    last = h.step[-1]
    window = [(s, v) for s, v in zip(h.step, h.data_loss, strict=True) if s > last - 2 * STUCK_SPAN]
    span, values = last - window[0][0], [v for _, v in window]
    if span < STUCK_SPAN or max(abs(v - chance) for v in values) > 0.01 * chance \
            or max(values) - min(values) > 0.002 * chance:
        return None
    return span


def health_hints(trainer, report: dict | None = None) -> list[dict]:
    """[{"severity": "error" | "warning" | "info", "code", "message"}], worst first.

    Codes: diverged, dead_all, dead_many, dead_some, update_ratio, slow, chance,
    reg_dominates, big_weights, overfit. ``report``: health(trainer), if already computed.
    """
    c, hints = trainer.config, []

    def add(severity, code, message):
        hints.append({"severity": severity, "code": code, "message": message})

    if trainer.status == "diverged":
        add("error", "diverged", explain_divergence(trainer)["message"])
        return hints
    r = report if report is not None else health(trainer)
    lower = f"the learning rate {c.lr:g} was too high; press Reset and lower it (e.g. to " \
            f"{c.lr / 10:g})"
    all_dead = False
    for x in r["dead"]:
        where = f"hidden layer {x['layer']}"
        if x["dead"] == x["units"]:
            all_dead = True
            why = lower if trainer.iteration > 0 else "they start that way; press Reset with " \
                "another seed or a different init scale"
            add("error", "dead_all", f"All {x['units']} ReLU units of {where} are dead (zero on "
                f"every training row): the network can no longer learn and predicts chance; "
                f"{why}.")
        elif x["fraction"] >= 0.5:
            add("warning", "dead_many", f"{x['dead']} of {x['units']} ReLU units of {where} are "
                f"dead (zero on every training row) and no longer learn; if more die, lower the "
                f"learning rate.")
        elif x["dead"]:
            add("info", "dead_some", f"{x['dead']} of {x['units']} ReLU units of {where} are "
                f"dead (zero on every training row) and no longer learn; the others carry on.")
    ratios = [(x["update_ratio"], x["weight"]) for x in r["layers"]
              if math.isfinite(x["update_ratio"])]
    top, name = max(ratios, default=(0.0, ""))
    if top > RATIO_HIGH:
        add("error" if top > RATIO_EXTREME else "warning", "update_ratio",
            f"Update/weight ratio {top:.2g} in {name} (about 1e-3 is healthy): the learning "
            f"rate {c.lr:g} is very high; if the loss jumps or units die, lower it to "
            f"{c.lr / 10:g}.")
    elif ratios and top < RATIO_LOW and trainer.iteration > 0 and not all_dead \
            and trainer.status != "abstol":
        add("info", "slow", f"Update/weight ratio only {top:.1g} (about 1e-3 is healthy): "
            f"learning is slow; a larger learning rate may help.")
    chance = r["chance_loss"]
    span = _stuck(trainer, chance)
    if span is not None and not all_dead:
        level = f"log({len(trainer.dataset.class_names)}) = {chance:.4f}" if r["balanced"] \
            else f"{chance:.4f} (the entropy of the class frequencies)"
        reg = f", or lower reg (now {c.reg:g}), which pulls the weights to zero" \
            if c.reg >= 0.1 else ""
        add("warning", "chance", f"The data loss has stayed near {level} for {span} "
            f"iterations: the network predicts chance. Try a larger learning rate or init "
            f"scale{reg}; or wait: small initial weights can take a while to get going.")
    cur = r["current"]
    if cur["reg_loss"] > cur["data_loss"] > 0:
        add("warning", "reg_dominates", f"The regularisation loss ({cur['reg_loss']:.3g}) is "
            f"larger than the data loss ({cur['data_loss']:.3g}): the penalty dominates; "
            f"lower reg (now {c.reg:g}).")
    big = max(((x["weight_norm"], x["weight"]) for x in r["layers"]), default=(0.0, ""))
    if big[0] > 1e3:
        add("warning", "big_weights", f"The weights are very large (||{big[1]}|| = "
            f"{big[0]:.3g}): the learning rate may be too high or reg too low.")
    h = trainer.history
    if h.step and h.train_acc[-1] - h.test_acc[-1] >= 0.2:
        add("info", "overfit", f"Test accuracy ({h.test_acc[-1]:.3f}) is well below training "
            f"accuracy ({h.train_acc[-1]:.3f}): the network may be overfitting; more "
            f"regularisation or fewer units may help.")
    return sorted(hints, key=lambda x: SEVERITIES.index(x["severity"]))
