"""Why a run diverged: the iteration, the first non-finite tensor, the last finite loss, advice.

No hook in the training loop is needed: a non-finite loss stops the Trainer *before* that
iteration's update, so its parameters are exactly the ones that produced it, and replaying
that one forward and backward pass (anatomy.forward_backward, on the whole training set)
shows which quantity went non-finite first, in the document's order of computation. A run
whose last update made the weights themselves non-finite (status "diverged" with the failure
kind "params") is explained by those weights.
"""

from __future__ import annotations

import math

import numpy as np

from .anatomy import forward_backward

__all__ = ["explain_divergence"]

_SKIP = {"x", "y", "onehot", "e", "S"}  # inputs; e, S: mlpcore never forms exp(score) itself


def _trace(entries) -> list[dict]:
    out = []
    for e in entries:
        if e["name"] in _SKIP:
            continue
        v = np.asarray(e["value"], dtype=np.float64)
        bad = ~np.isfinite(v)
        fin = np.abs(v[~bad])
        out.append({"name": e["name"], "op": e["op"], "title": e["title"], "stage": e["stage"],
                    "finite": not bad.any(), "nonfinite": int(bad.sum()),
                    "max_abs": float(fin.max()) if fin.size else None})
    return out


def _cause(first, trace, score, n_rows) -> str:
    """A clause naming why ``first`` (a trace item) went non-finite; score: "sigma<L>"."""
    name, peak = first["name"], {t["name"]: t for t in trace}
    if name[0] in "Wb" and "_" not in name:
        return f"{name} itself was no longer finite (the previous update, Op.[34], overflowed)"
    if name.startswith(("sigma", "h")) and name != score:
        return f"the hidden layer overflowed ({name}, {first['op']}): the weights grew too large"
    if name in (score, "probs"):
        return f"the scores ({score}) overflowed ({first['op']})"
    if name in ("correct_logprobs", "data_loss", "loss"):
        s = peak[score]["max_abs"]
        rows = peak["correct_logprobs"]["nonfinite"]
        big = f"grew to {s:.4g}" if s is not None else "grew too large"
        return (f"the scores {big}, so for {rows} of {n_rows} training rows the probability of "
                f"the true class underflowed to 0 and -log(q_y) is infinite (Op.[6]-[7])")
    if name == "reg_loss":
        return "the weights grew so large that the sum of their squares overflowed (Op.[9])"
    return f"{name} ({first['op']}) overflowed"


def explain_divergence(trainer) -> dict | None:
    """None unless trainer.status == "diverged"; else {"iteration", "kind" ("loss" or
    "params"), "what" ("infinite" / "NaN" / "non-finite"), "first_nonfinite": {"name", "op",
    "title", "stage"} or None, "trace": [{"name", "op", "title", "stage", "finite",
    "nonfinite", "max_abs"}, ...] in order of computation (params, forward, backward, update),
    "last_finite_loss", "last_finite_iteration" (None if none was computed), "lr",
    "suggested_lr", "message", "advice": [str, ...]}."""
    if trainer.status != "diverged" or trainer._failure is None:
        return None
    kind, i, value = trainer._failure
    c, d = trainer.config, trainer.dataset
    with np.errstate(all="ignore"):
        entries = forward_backward(dict(trainer.params), d.X_train, d.y_train, c.activation,
                                   c.reg, c.lr)
    trace = _trace(entries)
    first = next((t for t in trace if not t["finite"]), None)
    if kind == "loss":
        what = "infinite" if math.isinf(value) else "NaN (not a number)"
        last_i = i - 1 if i > 1 else None
        cause = _cause(first, trace, f"sigma{len(trainer.params) // 2}", len(d.y_train)) \
            if first is not None else "on the whole training set every quantity stays finite " \
            "(the failing mini-batch is not kept)"
        head = f"Diverged at iteration {i}: the loss became {what} because {cause}."
    else:
        what, last_i = "non-finite", i
        bad = first["name"] if first is not None else "the parameters"
        head = f"Diverged after iteration {i}: its update (Op.[34]) made {bad} non-finite."
    last = float(trainer.loss) if last_i is not None and math.isfinite(trainer.loss) else None
    lr_new = c.lr / 10
    advice = [f"Press Reset and lower the learning rate to {lr_new:g} (a tenth of {c.lr:g})."]
    if i <= 1 and kind == "loss":
        advice = [f"The initial weights already overflow: press Reset and lower init_scale "
                  f"(now {c.init_scale:g}), or standardise the features."] + advice
    if c.reg >= 1:
        advice.append(f"The regularisation {c.reg:g} is large; lowering it helps too.")
    was = f" The last finite loss was {last:.7g} (iteration {last_i})." if last is not None \
        else ""
    message = f"{head}{was} {advice[0]}"
    if c.batch_size is not None and c.batch_size < len(d.y_train):
        message += (f" (Replayed on the whole training set; the run itself drew mini-batches "
                    f"of {c.batch_size} rows.)")
    return {"iteration": i, "kind": kind, "what": what,
            "first_nonfinite": None if first is None else
            {k: first[k] for k in ("name", "op", "title", "stage")},
            "trace": trace, "last_finite_loss": last, "last_finite_iteration": last_i,
            "lr": c.lr, "suggested_lr": lr_new, "message": message, "advice": advice}
