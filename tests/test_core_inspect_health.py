"""Training health, its hints, and the divergence explainer, on real runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mlpcore import (
    Config,
    Trainer,
    explain_divergence,
    health_hints,
    network,
    to_plain,
)
from mlpcore.health import health


def _codes(hints, severity=None):
    return {h["code"] for h in hints if severity is None or h["severity"] == severity}


def test_figures_against_independent_computations():
    t = Trainer(Config.document())
    t.step(400)
    r = health(t)
    d, c = t.dataset, t.config
    loss, data_loss, reg_loss, grads = network.loss_and_grads(t.params, d.X_train, d.y_train,
                                                               c.reg)
    cur = r["current"]
    assert cur["data_loss"] == pytest.approx(data_loss, rel=1e-15)
    assert cur["reg_loss"] == pytest.approx(reg_loss, rel=1e-15)
    assert cur["loss"] == pytest.approx(loss, rel=1e-15)
    assert cur["reg_share"] == pytest.approx(reg_loss / loss)
    for x in r["layers"]:
        W, g = t.params[x["weight"]], grads[x["weight"]]
        assert x["update_ratio"] == pytest.approx(c.lr * np.sqrt((g**2).sum() / (W**2).sum()),
                                                  rel=1e-12)
    assert r["grad_norms"]["b1"] == pytest.approx(np.sqrt((grads["b1"] ** 2).sum()), rel=1e-12)
    hidden = np.maximum(d.X_train @ t.params["W1"] + t.params["b1"], 0)
    assert r["dead"] == [{"layer": 1, "units": 6, "dead": int((hidden.max(axis=0) == 0).sum()),
                          "fraction": pytest.approx((hidden.max(axis=0) == 0).mean())}]
    assert r["dead"][0]["dead"] == t.dead_units()[0]
    assert r["history"]["data_loss"] == t.history.data_loss
    assert r["history"]["step"][-1] == 400 and health(t, since=7)["history"]["step"][0] == 400
    assert r["chance_loss"] == pytest.approx(math.log(3)) and r["balanced"]
    assert json.dumps(to_plain(r), allow_nan=False)


def test_the_document_run_raises_no_alarm():
    t = Trainer(Config.document())
    seen = set()
    while not t.done:
        t.step(50)
        seen |= _codes(health_hints(t), "error") | _codes(health_hints(t), "warning")
    assert t.status == "maxit" and seen == set()
    assert _codes(health_hints(t)) == {"dead_some"}  # 2 of the 6 units never fire on iris


def test_lr_1_5_kills_every_relu_unit_and_the_hint_says_so():
    t = Trainer(Config(seed=1, lr=1.5))
    t.step(3000)
    hints = health_hints(t)
    assert hints[0]["severity"] == "error" and hints[0]["code"] == "dead_all"
    msg = hints[0]["message"]
    assert "All 6 ReLU units" in msg and "dead" in msg and "Reset" in msg
    assert "learning rate 1.5" in msg and "0.15" in msg
    assert health(t)["dead"][0]["fraction"] == 1.0
    assert "chance" not in _codes(hints)  # the dead units say it already


def test_a_very_high_learning_rate_shows_in_the_update_ratio():
    t = Trainer(Config(lr=0.5))
    t.step(1)
    hints = health_hints(t)
    ratio = next(h for h in hints if h["code"] == "update_ratio")
    assert ratio["severity"] == "warning" and "W2" in ratio["message"]
    assert "learning rate 0.5 is very high" in ratio["message"]
    t = Trainer(Config(lr=1.5))
    t.step(1)
    assert next(h for h in health_hints(t) if h["code"] == "update_ratio")["severity"] == "error"


def test_loss_stuck_at_chance_and_reg_dominating():
    t = Trainer(Config(reg=0.5))  # near chance for 300 iterations, but moving: no alarm
    t.step(300)
    assert "chance" not in _codes(health_hints(t))
    t = Trainer(Config(hidden=(16, 8)))  # small weights through two layers: a long plateau
    t.step(250)
    assert "chance" not in _codes(health_hints(t))  # too early to say
    t.step(350)
    hint = next(h for h in health_hints(t) if h["code"] == "chance")
    assert "log(3) = 1.0986" in hint["message"] and hint["severity"] == "warning"
    t = Trainer(Config(init_scale=1.0, reg=1.0))
    r = health(t)
    assert r["current"]["reg_loss"] > r["current"]["data_loss"]
    assert "reg_dominates" in _codes(health_hints(t, r))


def test_divergence_with_lr_10():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10))
    t.step(100)
    ex = explain_divergence(t)
    assert ex["iteration"] == 4 and ex["kind"] == "loss" and ex["what"] == "infinite"
    assert ex["first_nonfinite"]["name"] == "correct_logprobs"
    assert ex["first_nonfinite"]["op"] == "Op.[6]-[7]"
    u = Trainer(Config(seed=2024, hidden=(16,), lr=10))  # independently: iteration 3's loss
    u.step(2)
    d = u.dataset
    loss3 = network.loss_and_grads(u.params, d.X_train, d.y_train, u.config.reg)[0]
    assert ex["last_finite_loss"] == pytest.approx(loss3, rel=1e-12)
    assert ex["last_finite_iteration"] == 3
    probs = network.predict_proba(t.params, d.X_train)
    zero = int((probs[np.arange(len(d.y_train)), d.y_train] == 0).sum())
    trace = {x["name"]: x for x in ex["trace"]}
    assert zero > 0 and trace["correct_logprobs"]["nonfinite"] == zero
    assert all(trace[n]["finite"] for n in ("W1", "b1", "W2", "b2", "sigma1", "h1", "sigma2"))
    score = d.X_train @ t.params["W1"] + t.params["b1"]
    score = np.maximum(score, 0) @ t.params["W2"] + t.params["b2"]
    assert trace["sigma2"]["max_abs"] == pytest.approx(np.abs(score).max(), rel=1e-12)
    assert ex["suggested_lr"] == 1.0
    assert "iteration 4" in ex["message"] and "learning rate to 1 " in ex["message"]
    assert f"{loss3:.7g}" in ex["message"]
    hints = health_hints(t)
    assert hints[0]["code"] == "diverged" and hints[0]["message"] == ex["message"]
    assert explain_divergence(Trainer.from_bytes(t.to_bytes()))["message"] == ex["message"]
    assert json.dumps(to_plain(ex), allow_nan=False)


def test_divergence_of_the_weights_themselves_and_of_a_healthy_run():
    t = Trainer(Config.document())
    t.step(5)
    assert explain_divergence(t) is None
    t._theta[3] = math.inf  # as if update 5 had overflowed W1[0, 3] (a "params" failure)
    t._failure, t.status = ("params", 5, math.nan), "diverged"
    ex = explain_divergence(t)
    assert ex["kind"] == "params" and ex["first_nonfinite"]["name"] == "W1"
    assert "after iteration 5" in ex["message"] and "made W1 non-finite" in ex["message"]
    assert ex["last_finite_iteration"] == 5 and ex["last_finite_loss"] == t.loss


def test_divergence_in_a_mini_batch_run_and_at_the_first_iteration():
    t = Trainer(Config(batch_size=10, lr=20, hidden=(16,), seed=2024))
    t.step(100)
    ex = explain_divergence(t)
    assert t.status == "diverged" and ex["first_nonfinite"] is not None
    assert "mini-batches of 10 rows" in ex["message"]
    t = Trainer(Config(init_scale=1000, lr=1))
    t.step(1)
    ex = explain_divergence(t)
    assert ex["iteration"] == 1 and ex["last_finite_loss"] is None
    assert "init_scale" in ex["advice"][0]
