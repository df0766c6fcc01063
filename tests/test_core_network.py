"""Gradients: network.backward vs finite differences, and the fast engine vs network.py."""

from __future__ import annotations

import numpy as np
import pytest

from mlpcore import ACTIVATIONS, Config, Dataset, RRandom, Trainer
from mlpcore import network as nw
from mlpcore.engine import Engine, layout
from mlpcore.gradcheck import check_params, rel_error


def _problem(N=12, D=5, K=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = np.arange(N) % K
    rng.shuffle(y)
    return X, y


def _params(sizes, scale=0.5, seed=3):
    rng = np.random.default_rng(seed)
    params = nw.init_params(sizes, RRandom(seed), init_scale=scale)
    for k in params:  # non-zero biases too
        if k.startswith("b"):
            params[k] = rng.normal(size=params[k].shape) * 0.1
    return params


def _relu_safe(params, X, activation, margin=1e-3):
    """True when no hidden pre-activation sits within `margin` of ReLU's kink."""
    a = X
    L = len(params) // 2
    for i in range(1, L):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        if np.min(np.abs(z)) < margin:
            return False
        a = ACTIVATIONS[activation][0](z)
    return True


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(7,), (6, 5), (5, 4, 3)])
def test_gradcheck(activation, hidden):
    X, y = _problem()
    sizes = nw.layer_sizes(X.shape[1], hidden, 4)
    for seed in range(3, 40):  # for ReLU, pick parameters away from the kink
        params = _params(sizes, seed=seed)
        if activation != "relu" or _relu_safe(params, X, activation):
            break
    errors = check_params(params, X, y, reg=0.05, activation=activation)
    assert set(errors) == set(params)
    assert max(errors.values()) <= 1e-6, errors


def test_gradcheck_can_fail():
    X, y = _problem()
    params = _params(nw.layer_sizes(5, (6,), 4))
    grads = nw.loss_and_grads(params, X, y, 0.0, "tanh")[3]
    grads["W1"][0, 0] *= 1.001  # a wrong analytic gradient must be caught
    from mlpcore.gradcheck import numerical_gradient

    def loss():
        return nw.loss_and_grads(params, X, y, 0.0, "tanh")[0]

    assert rel_error(grads["W1"], numerical_gradient(loss, params["W1"])) > 1e-6


def _engine_grads(params, sizes, X, y, reg, activation, tile_rows=None):
    theta = np.zeros(layout(sizes)[1])
    eng = Engine(sizes, activation, theta, X, y, X[:0], y[:0], tile_rows=tile_rows)
    for i, Wa in enumerate(eng.Wa, start=1):
        Wa[:-1], Wa[-1] = params[f"W{i}"], params[f"b{i}"][0]
    eng.set_hyper(0.1, reg)
    total, _ = eng.train_pass()
    reg_loss = eng.reg_loss()
    np.add(eng.grad, eng.work, out=eng.grad)  # + reg * W, as update() does
    grads = {}
    for i, g in enumerate(eng.grads if eng.groups is None else
                          [eng.grad[o:o + (a + 1) * b].reshape(a + 1, b)
                           for o, a, b in layout(sizes)[0]], start=1):
        grads[f"W{i}"], grads[f"b{i}"] = g[:-1].copy(), g[-1:].copy()
    return -total / len(y) + reg_loss, grads


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden,tile", [((7,), None), ((6, 5), None), ((9,), 256)])
def test_engine_matches_network(activation, hidden, tile):
    X, y = _problem(N=700 if tile else 40, K=3)
    sizes = nw.layer_sizes(X.shape[1], hidden, 3)
    params = _params(sizes)
    loss, _, _, want = nw.loss_and_grads(params, X, y, 0.01, activation)
    got_loss, got = _engine_grads(params, sizes, X, y, 0.01, activation, tile)
    assert got_loss == pytest.approx(loss, rel=1e-13)
    for k in want:
        assert np.max(np.abs(got[k] - want[k])) <= 1e-13 * max(1.0, np.max(np.abs(want[k]))), k


def test_shuffled_training_set_same_full_batch_gradients():
    X, y = _problem(N=60, K=3)
    sizes = nw.layer_sizes(X.shape[1], (8,), 3)
    params = _params(sizes)
    perm = np.random.default_rng(5).permutation(len(y))
    l1, g1 = _engine_grads(params, sizes, X, y, 1e-3, "relu")
    l2, g2 = _engine_grads(params, sizes, X[perm], y[perm], 1e-3, "relu")
    assert l1 == pytest.approx(l2, rel=1e-12)
    for k in g1:
        assert np.allclose(g1[k], g2[k], rtol=0, atol=1e-12), k
    assert not np.array_equal(X, X[perm])


def test_fast_and_general_loops_agree():
    """Same parameters to the bit; the fast loop sums the loss in one dot (last-bit noise)."""
    def run(fast):
        t = Trainer(Config(hidden=(5, 4), activation="tanh", maxit=200, display=20))
        t._engine.fast = fast
        t.step(200)
        return t

    a, b = run(True), run(False)
    assert np.array_equal(a._theta, b._theta)
    assert np.allclose(a.history.loss, b.history.loss, rtol=1e-14, atol=0)
    assert a.history.test_acc == b.history.test_acc


def test_trainer_gradcheck_method():
    X, y = _problem(N=30, D=4, K=3)
    ds = Dataset("toy", X[:20], y[:20], X[20:], y[20:], list("abcd"), ["p", "q", "r"])
    t = Trainer(Config(hidden=(6, 4), activation="sigmoid", init_scale=0.5), ds)
    t.step(5)
    errors = t.gradcheck()
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) <= 1e-6


def test_predict_matches_forward():
    t = Trainer(Config.document())
    t.step(500)
    X = t.dataset.X_test
    probs = t.predict_proba(X)
    assert probs.shape == (75, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert np.array_equal(t.predict(X), probs.argmax(axis=1))
    with pytest.raises(ValueError):
        t.predict(np.zeros((2, 3)))
