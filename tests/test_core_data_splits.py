"""Splits and standardisation (mlpcore.splits), the Dataset's scaling record, and data sets
through Trainer and Trainer.to_bytes / from_bytes."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

from mlpcore import (
    Config,
    DataError,
    Dataset,
    RRandom,
    Trainer,
    csv_dataset,
    document_split,
    make_dataset,
    split_dataset,
)
from mlpcore.splits import standardization


def _labels(counts, seed=0):
    y = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(seed).permutation(y)


@pytest.mark.parametrize("seed, kind", [(1, "rounding"), (5, "rejection"), (-3, "rounding")])
def test_document_split_for_any_labels(seed, kind):
    y = _labels([7, 12, 2, 31], abs(seed))
    X = np.arange(y.size * 2, dtype=float).reshape(-1, 2)
    names = ["a", "b", "c", "d"]
    want = document_split(X, y, seed, kind, class_names=names)
    got = split_dataset(X, y, ["x1", "x2"], names, name="t", seed=seed, sample_kind=kind)
    assert np.array_equal(got.train_indices, want.train_indices)
    assert np.array_equal(got.test_indices, want.test_indices)
    assert np.array_equal(got.X_train, want.X_train) and np.array_equal(got.y_test, want.y_test)


@pytest.mark.parametrize("f", [0.1, 0.25, 0.5, 0.7, 0.9, 0.99])
def test_fraction_split_is_stratified(f):
    counts = [7, 12, 2, 30]
    y = _labels(counts)
    X = np.arange(y.size, dtype=float).reshape(-1, 1)
    ds = split_dataset(X, y, ["x"], list("abcd"), name="t", seed=9, split="fraction",
                       train_fraction=f)
    want = [min(max(int(np.floor(f * n + 0.5)), 1), n - 1) for n in counts]
    assert np.bincount(ds.y_train, minlength=4).tolist() == want
    assert np.bincount(ds.y_test, minlength=4).tolist() == [n - m for n, m in
                                                            zip(counts, want, strict=True)]
    assert ds.test_indices.tolist() == sorted(ds.test_indices.tolist())  # data order
    assert sorted(ds.train_indices.tolist() + ds.test_indices.tolist()) == list(range(1, 52))
    # training rows in drawn order: class by class, each from sample() of its rows
    rng = RRandom(9)
    first = np.flatnonzero(y == 0) + 1
    assert ds.train_indices[:want[0]].tolist() == first[rng.sample(7, want[0]) - 1].tolist()
    assert np.array_equal(ds.X_train[:, 0], ds.train_indices - 1.0)


def test_fraction_split_default_and_seed():
    a = make_dataset("spiral", 4, split="fraction")
    assert a.X_train.shape[0] == 3 * 70  # TRAIN_FRACTION default 0.7
    b = make_dataset("spiral", 4, split="fraction", train_fraction=0.7)
    c = make_dataset("spiral", 5, split="fraction", train_fraction=0.7)
    assert np.array_equal(a.train_indices, b.train_indices)
    assert not np.array_equal(a.train_indices, c.train_indices)


@pytest.mark.parametrize("kw, message", [
    (dict(split="random"), 'split must be "document" or "fraction", got \'random\''),
    (dict(train_fraction=0.5), 'a train fraction applies only to split="fraction" (the '
                               "document's split takes half of each class)"),
    (dict(split="fraction", train_fraction=1.0),
     "the train fraction must be a number greater than 0 and less than 1, got 1.0"),
    (dict(split="fraction", train_fraction=0),
     "the train fraction must be a number greater than 0 and less than 1, got 0"),
    (dict(split="fraction", train_fraction="0.5"),
     "the train fraction must be a number greater than 0 and less than 1, got '0.5'"),
    (dict(split="fraction", train_fraction=float("nan")),
     "the train fraction must be a number greater than 0 and less than 1, got nan"),
    (dict(sample_kind="modern"), "sample kind must be one of rounding, rejection, got 'modern'"),
])
def test_bad_split_settings(kw, message):
    with pytest.raises(DataError) as info:
        make_dataset("xor", **kw)
    assert str(info.value) == message


def test_too_few_rows_per_class():
    y = np.array([0, 0, 1, 0])
    with pytest.raises(DataError) as info:
        split_dataset(np.zeros((4, 1)), y, ["x"], ["big", "tiny"], name="t")
    assert str(info.value) == ('class "tiny" has 1 row; every class needs at least 2 rows '
                               "(one to train on, one to test on)")
    with pytest.raises(DataError) as info:
        split_dataset(np.zeros((4, 1)), np.zeros(4, int), ["x"], ["a", "b"], name="t")
    assert str(info.value).startswith('class "b" has 0 rows;')


def test_standardisation_uses_training_rows_only():
    raw = make_dataset("blobs", 3, n_points=40, split="fraction", train_fraction=0.6)
    ds = make_dataset("blobs", 3, n_points=40, split="fraction", train_fraction=0.6,
                      standardize=True)
    assert np.array_equal(ds.train_indices, raw.train_indices)
    center, scale = raw.X_train.mean(0), raw.X_train.std(0, ddof=1)  # R's scale()
    assert np.array_equal(ds.feature_center, center) and np.array_equal(ds.feature_scale, scale)
    assert np.allclose(ds.X_train.mean(0), 0) and np.allclose(ds.X_train.std(0, ddof=1), 1)
    assert np.array_equal(ds.X_test, (raw.X_test - center) / scale)
    assert np.array_equal(ds.transform(raw.X_test), ds.X_test)  # new raw points, same map
    assert np.allclose(ds.inverse_transform(ds.X_test), raw.X_test)
    assert ds.standardized and not raw.standardized
    assert np.array_equal(raw.transform(raw.X_test), raw.X_test)
    assert not np.allclose(ds.X_test.mean(0), 0, atol=1e-12)  # test rows are not re-centred


def test_standardisation_edge_cases():
    center, scale = standardization(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert center.tolist() == [2.0, 5.0] and scale.tolist() == [np.sqrt(2), 1.0]
    center, scale = standardization(np.array([[1.0, 5.0]]))
    assert scale.tolist() == [1.0, 1.0]
    X = np.array([[1e308, 1.0], [1.5e308, 2.0], [1.2e308, 3.0], [1.7e308, 4.0]])  # sums overflow
    with pytest.raises(DataError) as info:
        split_dataset(X, np.array([0, 0, 1, 1]), ["big", "small"], ["a", "b"], name="t",
                      standardize=True)
    assert str(info.value) == 'the values of feature "big" are too large to standardise'


def test_dataset_scaling_is_checked():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="given together"):
        Dataset("t", X, y, X, y, ["a", "b"], ["p", "q"], feature_center=[0, 0])
    with pytest.raises(ValueError, match="2 numbers each"):
        Dataset("t", X, y, X, y, ["a", "b"], ["p", "q"], feature_center=[0], feature_scale=[1])
    with pytest.raises(ValueError, match="positive"):
        Dataset("t", X, y, X, y, ["a", "b"], ["p", "q"], feature_center=[0, 0],
                feature_scale=[1, 0])


@pytest.mark.parametrize("make", [
    lambda: make_dataset("spiral", 3, n_points=40, standardize=True, split="fraction",
                         train_fraction=0.8),
    lambda: make_dataset("moons", 2, n_points=30),
    lambda: csv_dataset("a,b,c,kind\n" + "".join(f"{i},{i % 7},{i * i % 5},{'xyz'[i % 3]}\n"
                                                 for i in range(60)),
                        name="upload.csv", seed=4, standardize=True),
])
def test_trainer_round_trip_keeps_the_data(make):
    ds = make()
    config = Config(seed=3, hidden=(8,), lr=0.5, maxit=200, display=10)
    t = Trainer(config, ds)
    assert t.sizes[0] == ds.n_features and t.sizes[-1] == ds.n_classes
    t.step(60)
    u = Trainer.from_bytes(t.to_bytes())
    d = u.dataset
    assert (d.name, d.feature_names, d.class_names) == (ds.name, ds.feature_names,
                                                        ds.class_names)
    assert d.standardized == ds.standardized
    if ds.standardized:
        assert np.array_equal(d.feature_center, ds.feature_center)
        assert np.array_equal(d.feature_scale, ds.feature_scale)
    for part in ("X_train", "y_train", "X_test", "y_test", "train_indices", "test_indices"):
        assert np.array_equal(getattr(d, part), getattr(ds, part))
    t.step(100), u.step(100)
    assert t.history.loss == u.history.loss and t.iteration == u.iteration == 160
    grid = np.array([[0.1, -0.2] + [0.0] * (ds.n_features - 2)])
    assert np.array_equal(u.predict_proba(d.transform(grid)), t.predict_proba(ds.transform(grid)))


def _repack(blob: bytes, edit) -> bytes:
    """The same run with its JSON header edited (offsets are payload-relative)."""
    magic, version, head_len, _ = struct.unpack_from("<6sHII", blob)
    body = blob[16:]
    header = json.loads(body[:head_len])
    edit(header)
    head = json.dumps(header).encode()
    new = head + body[head_len:]
    return struct.pack("<6sHII", magic, version, len(head), zlib.crc32(new)) + new


def test_runs_saved_before_scaling_existed_still_load():
    t = Trainer(Config(maxit=20), make_dataset("xor", 1))
    t.step(5)
    old = _repack(t.to_bytes(), lambda h: h.pop("scaling"))
    u = Trainer.from_bytes(old)
    assert not u.dataset.standardized and u.dataset.name == "xor"
    with pytest.raises(ValueError, match="malformed standardisation record"):
        Trainer.from_bytes(_repack(t.to_bytes(), lambda h: h.update(scaling={"center": 1})))
    with pytest.raises(ValueError):
        Trainer.from_bytes(_repack(t.to_bytes(), lambda h: h.update(
            scaling={"center": [0.0, 0.0], "scale": [1.0, -1.0]})))
