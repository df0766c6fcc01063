"""The gradient-check panel's report (mlpcore.gradcheck.gradient_report)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlpcore import Config, Trainer, gradient_report, network, to_plain


def _trainer(steps, **kw) -> Trainer:
    t = Trainer(Config.document().replace(**kw) if kw else Config.document())
    t.step(steps)
    return t


def test_agrees_with_mlpcore_gradcheck():
    t = _trainer(300)
    r = gradient_report(t)
    ref = t.gradcheck()  # check_params: the core's own check, same h
    assert r["checked"] == r["total"] == 51
    for x in r["tensors"]:
        assert x["max_rel_error"] == ref[x["name"]], x["name"]
        assert x["checked"] == x["size"] == int(np.prod(x["shape"]))
        for e in x["entries"]:
            assert e["analytic"] == pytest.approx(
                network.loss_and_grads(t.params, t.dataset.X_train, t.dataset.y_train,
                                       t.config.reg)[3][x["name"]][tuple(e["index"])], rel=1e-15)
    assert r["verdict"] == "good" and not r["kink_crossed"]
    assert json.dumps(to_plain(r), allow_nan=False)


@pytest.mark.parametrize("config", [Config(activation="tanh", maxit=60),
                                    Config(hidden=(5, 4), activation="sigmoid", maxit=60)])
def test_smooth_activations_are_good(config):
    t = Trainer(config)
    t.step(40)
    r = gradient_report(t)
    assert r["verdict"] == "good", r["message"]
    assert all(x["kinks"] == 0 and x["judged_error"] <= 1e-7 for x in r["tensors"])


def test_relu_kinks_are_found_exactly():
    """At the document's initial weights three W1 entries cross a kink: a pre-activation
    sigma1[r, k] = (X W1 + b1)[r, k] moves by +-h X[r, j] when W1[j, k] does."""
    t = _trainer(0)
    h = 1e-5
    r = gradient_report(t, h=h)
    X, W1, b1 = t.dataset.X_train, t.params["W1"], t.params["b1"]
    sigma = X @ W1 + b1
    w1 = next(x for x in r["tensors"] if x["name"] == "W1")
    for e in w1["entries"]:
        j, k = e["index"]
        moved = [(sigma[:, k] + s * h * X[:, j] > 0) != (sigma[:, k] > 0) for s in (1, -1)]
        assert e["kink"] == bool(np.any(moved)), e
    assert w1["kinks"] >= 1 and w1["verdict"] == "kink" and r["kink_crossed"]
    assert w1["max_rel_error"] > 1e-2  # the kink ruins the numerical gradient ...
    assert w1["judged_error"] <= 1e-7  # ... and every other entry agrees
    assert r["verdict"] == "kink" and "kink" in r["message"]


def test_a_wrong_gradient_is_caught(monkeypatch):
    t = _trainer(300)
    real = network.backward

    def buggy(dscores, cache, params, activation="relu", reg=0.0):
        grads = real(dscores, cache, params, activation, reg)
        grads["W2"] = grads["W2"] - reg * params["W2"]  # forgot Op.[33] for W2
        grads["b1"] = grads["b1"] * 1.01  # 1% off
        return grads

    monkeypatch.setattr(network, "backward", buggy)
    r = gradient_report(t)
    v = {x["name"]: x["verdict"] for x in r["tensors"]}
    assert v["W1"] == v["b2"] == "good"
    assert v["b1"] in ("suspect", "wrong") and v["W2"] in ("suspect", "wrong")
    assert r["verdict"] in ("suspect", "wrong")


def test_subset_is_seeded_and_counted():
    t = Trainer(Config(hidden=(32,), maxit=10))
    t.step(5)
    a = gradient_report(t, max_per_tensor=5)
    b = gradient_report(t, max_per_tensor=5)
    c = gradient_report(t, max_per_tensor=5, seed=1)
    idx = [[e["index"] for e in x["entries"]] for x in a["tensors"]]
    assert idx == [[e["index"] for e in x["entries"]] for x in b["tensors"]]
    assert idx != [[e["index"] for e in x["entries"]] for x in c["tensors"]]
    assert [x["checked"] for x in a["tensors"]] == [5, 5, 5, 3]  # b2 has only 3 entries
    assert a["checked"] == 18 and a["total"] == 4 * 32 + 32 + 32 * 3 + 3
    assert "18 of 259" in a["message"]
    few = gradient_report(t, budget=1)  # the budget allows almost nothing: 3 per tensor
    assert [x["checked"] for x in few["tensors"]] == [3, 3, 3, 3]


def test_unavailable_when_the_loss_is_not_finite():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10))
    t.step(10)
    params = {k: v * 1e200 for k, v in t.params.items()}
    r = gradient_report(params, t.dataset.X_train, t.dataset.y_train)
    assert r["verdict"] == "unavailable" and r["checked"] == 0
    assert json.dumps(to_plain(r), allow_nan=False)
