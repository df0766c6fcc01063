"""Built-in data sets (mlpcore.toydata): the registry, make_dataset, and the generators'
determinism, shapes, classes and geometry; the draws are R's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlpcore import DATASETS, DataError, RRandom, document_split, load_iris, make_dataset

REF = json.loads((Path(__file__).parent / "reference" / "r_rng_reference.json").read_text())
TWO_D = ["spiral", "circles", "xor", "blobs", "moons"]


def _full(ds):
    """All rows of a split data set back in data order: (X (N, D), y (N,))."""
    n = ds.X_train.shape[0] + ds.X_test.shape[0]
    X, y = np.empty((n, ds.n_features)), np.empty(n, dtype=np.int64)
    X[ds.train_indices - 1], y[ds.train_indices - 1] = ds.X_train, ds.y_train
    X[ds.test_indices - 1], y[ds.test_indices - 1] = ds.X_test, ds.y_test
    return X, y


def test_registry_lists_every_set_with_slider_ranges():
    assert list(DATASETS) == ["iris", "spiral", "circles", "xor", "blobs", "moons"]
    assert DATASETS["iris"].params == () and DATASETS["iris"].generate is None
    with_classes = {n for n, b in DATASETS.items() if "n_classes" in [p.name for p in b.params]}
    assert with_classes == {"spiral", "blobs"}
    for name in TWO_D:
        params = {p.name: p for p in DATASETS[name].params}
        assert {"n_points", "noise"} <= set(params) <= {"n_points", "n_classes", "noise"}
        for p in params.values():
            assert p.min <= p.default <= p.max and p.step > 0 and p.label
            assert p.integer == (p.name != "noise")
        assert (params["n_points"].min, params["n_points"].max) == (10, 1000)
    assert DATASETS["spiral"].params[2].default == 0.2  # CS231n's noise


@pytest.mark.parametrize("name", TWO_D)
def test_generators_are_deterministic_per_seed(name):
    a, b, c = make_dataset(name, 7), make_dataset(name, 7), make_dataset(name, 8)
    for part in ("X_train", "y_train", "X_test", "y_test", "train_indices", "test_indices"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(_full(a)[0], _full(c)[0])


@pytest.mark.parametrize("name, K", [("spiral", 4), ("circles", 2), ("xor", 2), ("blobs", 5),
                                     ("moons", 2)])
def test_generators_shapes_and_classes(name, K):
    kw = {"n_classes": K} if name in ("spiral", "blobs") else {}
    ds = make_dataset(name, 3, n_points=30, **kw)
    X, y = _full(ds)
    assert X.shape == (30 * K, 2) and ds.feature_names == ["x1", "x2"]
    assert ds.n_classes == K and len(set(ds.class_names)) == K
    assert np.bincount(y).tolist() == [30] * K
    assert np.bincount(ds.y_train).tolist() == [15] * K  # the document's half of each class
    rows = sorted(ds.train_indices.tolist() + ds.test_indices.tolist())
    assert rows == list(range(1, 30 * K + 1))
    assert ds.name == name and not ds.standardized


def test_class_names():
    assert make_dataset("spiral", n_classes=2).class_names == ["arm 1", "arm 2"]
    assert make_dataset("blobs", n_classes=3).class_names == ["blob 1", "blob 2", "blob 3"]
    assert make_dataset("circles").class_names == ["outer", "inner"]
    assert make_dataset("xor").class_names == ["same sign", "opposite sign"]
    assert make_dataset("moons").class_names == ["upper", "lower"]


def test_spiral_is_cs231n_with_r_draws():
    """Spiral, seed 1, N = 100, K = 2: theta = linspace(4j, 4j + 4, N) + 0.2 * rnorm, the
    200 draws being R's rnorm(200) after set.seed(1)."""
    X, y = _full(make_dataset("spiral", 1, n_points=100, n_classes=2, noise=0.2))
    draws = np.array(REF["seed_1"]["rnorm200"])
    r = np.linspace(0, 1, 100)
    for j in range(2):
        t = np.linspace(4 * j, 4 * j + 4, 100) + draws[100 * j:100 * (j + 1)] * 0.2
        assert np.array_equal(X[y == j], np.column_stack([r * np.sin(t), r * np.cos(t)]))


def test_circles_angles_are_r_runif():
    X, y = _full(make_dataset("circles", 42, n_points=100, noise=0.0))
    t = 2 * math.pi * np.array(REF["seed_42"]["runif200"][:100])
    assert np.array_equal(X[y == 0], np.column_stack([np.cos(t), np.sin(t)]))
    assert np.allclose(np.hypot(*X[y == 1].T), 0.5)


def test_geometry_without_noise():
    X, y = _full(make_dataset("spiral", 2, noise=0.0))
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12
    X, y = _full(make_dataset("xor", 2, noise=0.0))
    assert np.array_equal(X[:, 0] * X[:, 1] < 0, y == 1)
    assert np.abs(X).max() < 1.0
    X, y = _full(make_dataset("moons", 2, noise=0.0))
    assert np.allclose(np.hypot(*X[y == 0].T), 1.0)
    assert np.allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    assert (X[y == 0, 1] >= 0).all() and (X[y == 1, 1] <= 0.5).all()
    X, y = _full(make_dataset("blobs", 2, n_classes=4, noise=0.0))
    centers = [(2, 0), (0, 2), (-2, 0), (0, -2)]
    for k, c in enumerate(centers):
        assert np.allclose(X[y == k], c)


def test_noise_spreads_blobs():
    X, y = _full(make_dataset("blobs", 5, n_points=1000, noise=0.5))
    assert abs(X[y == 0, 0].std() - 0.5) < 0.05 and abs(X[y == 0, 0].mean() - 2) < 0.05


@pytest.mark.parametrize("seed, kind", [(1, "rounding"), (42, "rounding"), (7, "rejection")])
def test_iris_is_the_document_split(seed, kind):
    X, y, f, c = load_iris()
    want = document_split(X, y, seed=seed, sample_kind=kind, feature_names=f, class_names=c)
    got = make_dataset("iris", seed, sample_kind=kind)
    for part in ("X_train", "y_train", "X_test", "y_test", "train_indices", "test_indices"):
        assert np.array_equal(getattr(got, part), getattr(want, part))
    assert (got.name, got.feature_names, got.class_names) == ("iris", f, c)


def test_generation_and_split_share_one_stream():
    """set.seed(seed); generate; split — the split continues the generator's stream."""
    ds = make_dataset("moons", 11, n_points=20, noise=0.1)
    rng = RRandom(11)
    for _ in range(2):
        rng.runif(20), rng.rnorm(20), rng.rnorm(20)
    assert ds.train_indices[:10].tolist() == rng.sample(20, 10).tolist()


@pytest.mark.parametrize("call, message", [
    (dict(name="swiss roll"), "unknown data set 'swiss roll'; the built-in data sets are iris, "
                              "spiral, circles, xor, blobs, moons"),
    (dict(name="circles", n_classes=3), "the circles data set has no classes setting"),
    (dict(name="iris", noise=0.1), "the iris data set has no noise setting"),
    (dict(name="iris", n_points=50), "the iris data set has no points setting"),
    (dict(name="spiral", n_points=5), "points per class must be a whole number from 10 to "
                                      "1000, got 5"),
    (dict(name="spiral", n_points=10.5), "points per class must be a whole number from 10 to "
                                         "1000, got 10.5"),
    (dict(name="blobs", n_classes=11), "classes must be a whole number from 2 to 10, got 11"),
    (dict(name="moons", noise=-0.1), "noise (sd) must be a number from 0 to 0.5, got -0.1"),
    (dict(name="moons", noise=float("nan")), "noise (sd) must be a number from 0 to 0.5, "
                                             "got nan"),
    (dict(name="xor", noise=True), "noise (sd) must be a number from 0 to 0.5, got True"),
    (dict(name="xor", seed="1"), "seed must be a whole number from -2147483647 to 2147483647, "
                                 "got '1'"),
])
def test_bad_settings_are_data_errors(call, message):
    with pytest.raises(DataError) as info:
        make_dataset(**call)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
