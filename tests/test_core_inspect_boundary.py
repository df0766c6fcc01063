"""Decision-boundary grid (mlpcore.boundary.boundary_grid)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlpcore import Config, Dataset, Trainer, boundary_grid, make_dataset, network, to_plain


@pytest.fixture(scope="module")
def doc():
    t = Trainer(Config.document())
    t.step(1000)
    return t


def _cell_input(g, r, c, means):
    """The raw input row of grid cell (r, c), built independently of boundary_grid."""
    x = np.array(means, dtype=float)
    fi, fj = g["features"]
    x[fi] = g["xs"][c]
    if fj is not None:
        x[fj] = g["ys"][r]
    return x


def test_grid_predictions_hold_other_features_at_training_means(doc):
    g = boundary_grid(doc, features=(2, 3), resolution=31)
    d = doc.dataset
    means = d.X_train.mean(axis=0)
    assert g["xs"].shape == g["ys"].shape == (31,)
    assert g["pred"].shape == g["prob"].shape == (31, 31)
    cells = [(0, 0), (30, 30), (5, 17), (22, 3), (15, 15)]
    rows = np.array([_cell_input(g, r, c, means) for r, c in cells])
    want = network.predict(doc.params, rows)
    probs = network.predict_proba(doc.params, rows)
    for (r, c), k, p in zip(cells, want, probs, strict=True):
        assert g["pred"][r, c] == k and g["prob"][r, c] == pytest.approx(p.max(), rel=1e-14)
    assert g["held"] == {"Sepal.Length": pytest.approx(means[0]),
                         "Sepal.Width": pytest.approx(means[1])}
    assert "training means" in g["note"] and "Sepal.Length" in g["note"]
    assert set(np.unique(g["pred"])) == {0, 1, 2}  # all three species appear on the petal plane
    both = np.vstack([d.X_train, d.X_test])
    assert g["xs"][0] < both[:, 2].min() and g["xs"][-1] > both[:, 2].max()
    assert g["ys"][0] < both[:, 3].min() and g["ys"][-1] > both[:, 3].max()


def test_points_and_their_flags(doc):
    g = boundary_grid(doc, features=(0, 1))
    d = doc.dataset
    for part, X, y, idx in (("train", d.X_train, d.y_train, d.train_indices),
                            ("test", d.X_test, d.y_test, d.test_indices)):
        p = g[part]
        assert np.array_equal(p["x"], X[:, 0]) and np.array_equal(p["y"], X[:, 1])
        assert np.array_equal(p["label"], y) and np.array_equal(p["index"], idx)
        assert np.array_equal(p["pred"], network.predict(doc.params, X))
        assert np.array_equal(p["correct"], network.predict(doc.params, X) == y)
    assert g["test"]["correct"].mean() == doc.accuracy("test")
    assert json.loads(json.dumps(to_plain(g), allow_nan=False))["class_names"][0] == "setosa"


def test_standardised_data_uses_raw_units():
    ds = make_dataset("iris", seed=1, standardize=True)
    t = Trainer(Config(maxit=200, lr=0.1), dataset=ds)
    t.step(200)
    g = boundary_grid(t, features=(0, 3), resolution=20)
    raw_train = ds.X_train * ds.feature_scale + ds.feature_center
    raw_test = ds.X_test * ds.feature_scale + ds.feature_center
    assert g["standardized"] and "standardised" in g["note"]
    assert np.allclose(g["train"]["x"], raw_train[:, 0]) and np.allclose(g["test"]["y"],
                                                                          raw_test[:, 3])
    assert g["xs"].min() < raw_train[:, 0].min() < raw_train[:, 0].max() < g["xs"].max()
    means = raw_train.mean(axis=0)
    r, c = 7, 12
    raw = _cell_input(g, r, c, means)
    z = (raw - ds.feature_center) / ds.feature_scale
    assert g["pred"][r, c] == network.predict(t.params, z[None])[0]
    assert g["held"]["Sepal.Width"] == pytest.approx(means[1])


def test_two_feature_data_is_the_plane_itself():
    t = Trainer(Config(hidden=(16,), lr=0.5, maxit=100), dataset=make_dataset("spiral", seed=1))
    t.step(100)
    g = boundary_grid(t, resolution=60, margin=0.0)
    assert g["held"] == {} and "plane itself" in g["note"]
    X = np.vstack([t.dataset.X_train, t.dataset.X_test])
    assert g["xs"][0] == X[:, 0].min() and g["xs"][-1] == X[:, 0].max()
    gx, gy = np.meshgrid(g["xs"], g["ys"])
    want = network.predict(t.params, np.column_stack([gx.ravel(), gy.ravel()]))
    assert np.array_equal(g["pred"].ravel(), want)


def test_one_feature_gives_a_strip_and_bad_arguments_raise(doc):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1))
    y = (X[:, 0] > 0).astype(int)
    ds = Dataset("line", X[:30], y[:30], X[30:], y[30:], ["x"], ["neg", "pos"])
    t = Trainer(Config(maxit=50, lr=0.5), dataset=ds)
    t.step(50)
    g = boundary_grid(t, resolution=25)
    assert g["pred"].shape == (1, 25) and g["ys"].tolist() == [0.0] and g["features"] == [0, None]
    assert np.array_equal(g["train"]["y"], np.zeros(30))
    for bad in ({"features": (1, 1)}, {"features": (0, 4)}, {"features": "ab"},
                {"resolution": 1}, {"resolution": 2.5}, {"margin": -1}, {"margin": "x"}):
        with pytest.raises(ValueError):
            boundary_grid(doc, **bad)
