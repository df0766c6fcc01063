"""Trainer: step invariants, save/restore, divergence, settings, bytes format."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from mlpcore import ACTIVATIONS, Config, Dataset, History, Trainer, document_split, load_iris
from mlpcore.serialize import MAGIC


def _same_run(a: Trainer, b: Trainer) -> None:
    assert a.iteration == b.iteration and a.status == b.status
    assert a.loss == b.loss or (math.isnan(a.loss) and math.isnan(b.loss))
    assert np.array_equal(a._theta, b._theta)
    assert a.history == b.history
    assert a._rng.get_state() == b._rng.get_state()


def _toy(N=700, D=6, K=3, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = np.argmax(X @ rng.normal(size=(D, K)), axis=1)
    n = N - 100
    return Dataset("toy", X[:n], y[:n], X[n:], y[n:], [f"x{i}" for i in range(D)],
                   [f"c{k}" for k in range(K)])


CONFIGS = [
    Config.document().replace(maxit=300),
    Config(hidden=(16, 8), activation="tanh", maxit=120, display=7, lr=0.1),
    Config(batch_size=16, maxit=150, display=10, lr=0.05),
    Config(batch_size=16, maxit=150, display=10, lr=0.05, sample_kind="rejection", seed=42),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["document", "deep", "minibatch", "mb-reject"])
def test_step_one_at_a_time_equals_step_n(config):
    a, b = Trainer(config), Trainer(config)
    n = config.maxit - 7
    assert a.step(n) == n
    assert sum(b.step(1) for _ in range(n)) == n
    _same_run(a, b)


def test_step_n_on_tiled_data_equals_step_one():
    config = Config(hidden=(12,), maxit=12, display=4)
    a, b = Trainer(config, _toy(N=10000)), Trainer(config, _toy(N=10000))
    assert a._engine.groups is not None  # really tiled
    a.step(12)
    for _ in range(12):
        b.step(1)
    _same_run(a, b)


@pytest.mark.parametrize("config", CONFIGS, ids=["document", "deep", "minibatch", "mb-reject"])
def test_save_restore_continue_equals_uninterrupted(config):
    whole, part = Trainer(config), Trainer(config)
    whole.step(config.maxit)
    part.step(config.maxit // 3)
    blob = part.to_bytes()
    restored = Trainer.from_bytes(blob)
    _same_run(restored, part)
    restored.step(config.maxit)
    _same_run(restored, whole)
    assert restored.to_bytes() == whole.to_bytes()


def test_user_dataset_round_trips():
    t = Trainer(Config(hidden=(5,), maxit=40, display=8), _toy())
    t.step(20)
    u = Trainer.from_bytes(t.to_bytes())
    assert u.dataset.name == "toy" and u.dataset.class_names == ["c0", "c1", "c2"]
    for f in ("X_train", "y_train", "X_test", "y_test", "train_indices", "test_indices"):
        assert np.array_equal(getattr(u.dataset, f), getattr(t.dataset, f))
    t.step(20)
    u.step(20)
    _same_run(t, u)


def test_diverges_with_lr_10():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10))
    before = None
    for _ in range(10):
        before = t._theta.copy()
        if t.step(1) == 0:
            break
    assert t.status == "diverged" and t.done
    assert t.iteration == 3  # R: Inf loss at iteration 4
    assert "iteration 4" in t.message and "learning rate" in t.message.lower()
    assert np.isfinite(t._theta).all() and np.array_equal(t._theta, before)
    assert t.step(5) == 0
    u = Trainer.from_bytes(t.to_bytes())
    assert u.status == "diverged" and u.message == t.message


def test_lr_1_5_kills_every_relu_unit():
    t = Trainer(Config(lr=1.5))
    t.step(3000)
    assert t.status == "maxit"
    assert t.dead_units() == [6]
    assert "dead" in t.message and "learning rate" in t.message
    assert t.accuracy() == pytest.approx(1 / 3)
    assert abs(t.history.data_loss[-1] - math.log(3)) < 1e-3


def test_status_and_history_protocol():
    t = Trainer(Config(maxit=120, display=50))
    assert t.status == "ready" and not t.done and len(t.history) == 0
    assert t.step(0) == 0 and t.status == "ready"
    assert t.step(60) == 60 and t.status == "running"
    assert t.history.step == [50]
    assert t.step(1000) == 60 and t.status == "maxit" and t.iteration == 120
    assert t.history.step == [50, 100]
    assert t.history.since(1)["step"] == [100]
    d = t.history.to_dict()
    assert set(d) == {"step", "loss", "data_loss", "reg_loss", "train_acc", "test_acc",
                      "test_loss"}
    h = t.history
    assert h.loss[0] == pytest.approx(h.data_loss[0] + h.reg_loss[0], rel=1e-14)
    assert History.from_dict(d) == h


def test_abstol_stops_like_r():
    t = Trainer(Config(abstol=0.9, maxit=3000, display=10))
    t.step(3000)
    assert t.status == "abstol" and t.loss <= 0.9
    assert 0 < t.iteration < 3000
    first = t.iteration
    t2 = Trainer(Config(abstol=0.9, maxit=3000, display=10))
    while t2.step(1):
        pass
    assert t2.iteration == first


def test_set_hyper_continues_the_run():
    a = Trainer(Config(maxit=400))
    a.step(100)
    a.set_hyper(lr=0.05, reg=1e-4)
    assert a.config.lr == 0.05 and a.config.reg == 1e-4
    a.step(300)
    b = Trainer(Config(maxit=400))
    b.step(100)
    blob = b.to_bytes()
    b.set_hyper(lr=0.05, reg=1e-4)
    b.step(300)
    _same_run(a, b)
    c = Trainer.from_bytes(blob)
    c.set_hyper(lr=0.05, reg=1e-4)
    c.step(300)
    _same_run(a, c)
    with pytest.raises(ValueError):
        a.set_hyper(lr=-1)
    a.set_hyper(maxit=500)
    assert a.status == "running"
    a.step(100)
    assert a.status == "maxit" and a.iteration == 500


@pytest.mark.parametrize("kwargs,word", [
    ({"hidden": 0}, "hidden"), ({"hidden": (6, 0)}, "hidden"), ({"hidden": ()}, "hidden"),
    ({"hidden": 2.5}, "hidden"), ({"hidden": "6"}, "hidden"), ({"lr": -1}, "learning rate"),
    ({"lr": 0}, "learning rate"), ({"lr": float("inf")}, "learning rate"),
    ({"lr": "0.1"}, "learning rate"), ({"reg": float("nan")}, "regularisation"),
    ({"maxit": 10.5}, "maxit"), ({"maxit": 0}, "maxit"), ({"maxit": True}, "maxit"),
    ({"display": 0}, "display"), ({"abstol": -1}, "abstol"), ({"seed": 1.5}, "seed"),
    ({"activation": "softplus"}, "activation"), ({"batch_size": 0}, "batch size"),
    ({"init_scale": 0}, "init scale"), ({"sample_kind": "x"}, "sample kind"),
])
def test_config_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Config(**kwargs)


def test_config_normalisation_and_dicts():
    c = Config(hidden=16, lr=1, seed=np.int64(3))
    assert c.hidden == (16,) and isinstance(c.lr, float) and type(c.seed) is int
    assert Config(hidden=[16, 8]).hidden == (16, 8)
    d = Config.document()
    assert (d.seed, d.hidden, d.maxit, d.display, d.lr, d.reg, d.abstol) == \
        (1, (6,), 3000, 50, 0.01, 1e-3, 1e-2)
    assert Config.from_dict(json.loads(json.dumps(d.to_dict()))) == d
    assert d.replace(lr=0.5).lr == 0.5
    with pytest.raises(ValueError):
        d.replace(nope=1)
    with pytest.raises(ValueError):
        Config.from_dict({"seed": 1, "extra": 2})
    with pytest.raises(ValueError):
        d.replace(hidden=(0,))
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid", "identity"}


def test_from_bytes_rejects_garbage():
    good = Trainer(Config(maxit=60)).to_bytes()
    rng = np.random.default_rng(0)
    bad = [b"", b"MLPLAB", b"x" * 100, MAGIC + b"\x02\x00" + good[8:], "text", None, 42,
           good + b"\0" * 8, rng.bytes(len(good))]
    bad += [good[:n] for n in range(0, len(good), max(1, len(good) // 97))]
    for _ in range(300):  # flipped bytes anywhere: caught by the checksum or the checks
        b = bytearray(good)
        b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
        bad.append(bytes(b))
    for blob in bad:
        with pytest.raises(ValueError):
            Trainer.from_bytes(blob)


def test_from_bytes_rejects_consistent_but_wrong_content():
    import zlib

    good = Trainer(Config(maxit=60)).to_bytes()
    _, _, head_len, _ = struct.unpack_from("<6sHII", good)
    header = json.loads(good[16:16 + head_len])
    payload = good[16 + head_len:]

    def pack(h):
        head = json.dumps(h).encode()
        body = head + payload
        return struct.pack("<6sHII", MAGIC, 1, len(head), zlib.crc32(body)) + body

    assert Trainer.from_bytes(pack(header)).iteration == 0
    for key, value in [("status", "flying"), ("iteration", -1), ("iteration", 10**9),
                       ("config", {"hidden": [0]}), ("class_names", ["a"]),
                       ("arrays", {}), ("rng_mti", 9999), ("loss", "lots"),
                       ("failure", ["loss", 3, "inf"])]:
        h = dict(header)
        h[key] = value
        with pytest.raises(ValueError):
            Trainer.from_bytes(pack(h))
    h = json.loads(json.dumps(header))
    h["arrays"]["theta"][0] = [10**6]
    with pytest.raises(ValueError):
        Trainer.from_bytes(pack(h))


def test_dataset_and_split_generalise():
    X, y, f, c = load_iris()
    keep = np.r_[0:50, 50:71, 100:150]  # unequal classes: floor(n_k / 2) each
    ds = document_split(X[keep], y[keep], seed=3, feature_names=f, class_names=c)
    assert np.bincount(ds.y_train).tolist() == [25, 10, 25]
    assert len(ds.y_test) == len(keep) - 60
    assert sorted(ds.train_indices.tolist() + ds.test_indices.tolist()) == \
        list(range(1, len(keep) + 1))
    assert np.all(np.diff(ds.test_indices) > 0)
    with pytest.raises(ValueError):
        Dataset("bad", X[:5], np.array([0, 1, 2, 3, 9]), X[:0], y[:0], f, c)
    t = Trainer(Config(seed=3, maxit=10), ds)
    assert t.sizes == [4, 6, 3]


def test_confusion_and_accuracy_agree():
    t = Trainer(Config(maxit=800))
    t.step(800)
    for split in ("train", "test"):
        cm = t.confusion(split)
        assert cm.shape == (3, 3) and cm.dtype.kind == "i"
        assert cm.sum() == 75
        assert t.accuracy(split) == pytest.approx(np.trace(cm) / 75)
    with pytest.raises(ValueError):
        t.accuracy("valid")


def test_params_are_live_read_only_views():
    t = Trainer(Config.document())
    W1 = t.params["W1"]
    before = W1.copy()
    t.step(10)
    assert not np.array_equal(W1, before)
    with pytest.raises(ValueError):
        W1[0, 0] = 1.0
    assert t.params["b1"].shape == (1, 6) and t.params["W2"].shape == (6, 3)
