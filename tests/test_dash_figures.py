"""The pure figure and patch builders (no browser, no trainer)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import apply_patch
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.figures import (
    CURVE_DIGITS,
    CURVES_TITLE,
    UIREVISION,
    WEIGHT_DIGITS,
    confusion_figure,
    curves_figure,
    rounded,
    weights_figure,
)
from dashboard.patches import confusion_patch, curves_patch, curves_visibility_patch, weights_patch

KEYS = ("step", "loss", "data_loss", "reg_loss", "train_acc", "test_acc", "test_loss")
FEATURES = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
CLASSES = ["setosa", "versicolor", "virginica"]


def history(n, start=1, display=50, seed=0):
    rng = np.random.default_rng(seed)
    steps = [display * (start + i) for i in range(n)]
    h = {"step": steps}
    for key in KEYS[1:]:
        h[key] = list(rng.random(n))
    return h


def params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    p = {}
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        p[f"W{l}"] = rng.normal(size=(a, b))
        p[f"b{l}"] = rng.normal(size=(1, b))
    return p


# ------------------------------------------------------------------------------ curves
def test_curves_figure_is_the_documents_plot():
    h = history(3)
    fig = curves_figure(h)
    layout = fig["layout"]
    assert layout["title"]["text"] == CURVES_TITLE == "Loss & Accuracy as Steps Proceed"
    assert layout["xaxis"]["title"]["text"] == "steps"
    assert layout["yaxis"]["title"]["text"] == "Loss & Acc."
    assert layout["uirevision"] == UIREVISION
    loss, acc = fig["data"][0], fig["data"][1]
    assert (loss["name"], loss["line"]["color"], loss["line"]["width"]) == (
        "Loss", "rgb(205,12,24)", 3)
    assert (acc["name"], acc["line"]["color"], acc["line"]["width"]) == (
        "Accuracy", "rgb(22,96,167)", 4)
    for trace in fig["data"]:
        assert trace["type"] == "scatter" and trace["mode"] == "lines+markers"
        assert trace["x"] == [50, 100, 150]
    assert loss["y"] == [rounded(v, CURVE_DIGITS) for v in h["loss"]]
    assert acc["y"] == [rounded(v, CURVE_DIGITS) for v in h["test_acc"]]  # test accuracy
    assert loss["visible"] is True and acc["visible"] is True


def test_optional_curves_are_in_the_legend_until_asked_for():
    h = history(2)
    names = [t["name"] for t in curves_figure(h)["data"]]
    assert names == ["Loss", "Accuracy", "Train accuracy", "Test loss"]
    assert [t["visible"] for t in curves_figure(h)["data"]][2:] == ["legendonly"] * 2
    fig = curves_figure(h, show_train_acc=True, show_test_loss=True)
    assert [t["visible"] for t in fig["data"]] == [True] * 4
    assert fig["data"][2]["y"] == [rounded(v, CURVE_DIGITS) for v in h["train_acc"]]
    assert fig["data"][3]["y"] == [rounded(v, CURVE_DIGITS) for v in h["test_loss"]]
    patched = apply_patch(curves_figure(h), curves_visibility_patch(True, False))
    assert [t["visible"] for t in patched["data"]] == [True, True, True, "legendonly"]


def test_curves_figure_is_small_and_plain_json():
    fig = curves_figure(history(60))
    text = json.dumps(fig, allow_nan=False)  # no NaN, no numpy, no template
    assert "template" not in fig["layout"]
    assert len(text) < 8000


def test_rounding_and_non_finite_values():
    assert rounded(1.0978504, 5) == 1.0979
    assert rounded(0.98666667, 5) == 0.98667
    assert rounded(float("nan"), 5) is None and rounded(float("inf"), 5) is None
    fig = curves_figure({"step": [50, 100], "loss": [1.0, math.inf], "test_acc": [0.5, math.nan],
                         "train_acc": [0.5, 0.5], "test_loss": [1.0, 1.0]})
    assert fig["data"][0]["y"] == [1.0, None] and fig["data"][1]["y"] == [0.5, None]


def test_empty_history_gives_empty_traces():
    fig = curves_figure({})
    assert [t["x"] for t in fig["data"]] == [[]] * 4


# --------------------------------------------------------------------------- confusion
def test_confusion_figure_writes_counts_with_class_names_on_both_axes():
    cm = np.array([[25, 0, 0], [0, 24, 1], [0, 0, 25]])
    fig = confusion_figure(cm, CLASSES)
    (trace,) = fig["data"]
    assert trace["type"] == "heatmap"
    assert trace["z"] == [[25, 0, 0], [0, 24, 1], [0, 0, 25]]
    assert all(type(v) is int for row in trace["z"] for v in row)
    assert trace["x"] == CLASSES and trace["y"] == CLASSES
    assert trace["texttemplate"] == "%{z}"  # the count in every cell
    assert fig["layout"]["xaxis"]["title"]["text"] == "predicted"
    assert fig["layout"]["yaxis"]["title"]["text"] == "true"
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"  # first class on top, as a table
    assert fig["layout"]["uirevision"] == UIREVISION


def test_confusion_patch_replaces_the_values():
    fig = confusion_figure(np.zeros((3, 3), dtype=int), CLASSES)
    cm = np.array([[25, 0, 0], [0, 24, 1], [0, 0, 25]])
    assert apply_patch(fig, confusion_patch(cm)) == json.loads(
        json.dumps(confusion_figure(cm, CLASSES)))


# ----------------------------------------------------------------------------- weights
def test_weights_figure_one_heatmap_per_layer_bias_last_row():
    p = params([4, 6, 3])
    fig = weights_figure(p, FEATURES, CLASSES)
    w1, w2 = fig["data"]
    assert (w1["name"], w2["name"]) == ("W1", "W2")
    assert w1["y"] == FEATURES + ["b1"] and w1["x"] == [f"h{j}" for j in range(1, 7)]
    assert w2["y"] == [f"h{j}" for j in range(1, 7)] + ["b2"] and w2["x"] == CLASSES
    assert np.array(w1["z"]).shape == (5, 6) and np.array(w2["z"]).shape == (7, 3)
    np.testing.assert_allclose(w1["z"][:4], p["W1"], rtol=10 ** (1 - WEIGHT_DIGITS))
    np.testing.assert_allclose(w1["z"][4], p["b1"][0], rtol=10 ** (1 - WEIGHT_DIGITS))
    np.testing.assert_allclose(w2["z"][6], p["b2"][0], rtol=10 ** (1 - WEIGHT_DIGITS))
    for trace in fig["data"]:
        assert trace["type"] == "heatmap" and trace["zmid"] == 0
        scale = trace["colorscale"]  # diverging: blue, white at the middle, red
        assert scale[0][1] == "#2166ac" and scale[-1][1] == "#b2182b"
        assert [0.5, "#f7f7f7"] in scale
    assert (w1["xaxis"], w1["yaxis"], w2["xaxis"], w2["yaxis"]) == ("x", "y", "x2", "y2")
    d1, d2 = fig["layout"]["xaxis"]["domain"], fig["layout"]["xaxis2"]["domain"]
    assert 0 <= d1[0] < d1[1] < d2[0] < d2[1] <= 1  # side by side, no overlap
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert fig["layout"]["uirevision"] == UIREVISION


def test_weights_figure_deeper_network_names_every_layer():
    p = params([4, 5, 5, 3])
    fig = weights_figure(p, FEATURES, CLASSES)
    assert [t["name"] for t in fig["data"]] == ["W1", "W2", "W3"]
    assert fig["data"][1]["y"] == [f"h1.{j}" for j in range(1, 6)] + ["b2"]
    assert fig["data"][1]["x"] == [f"h2.{j}" for j in range(1, 6)]
    assert fig["data"][2]["x"] == CLASSES
    domains = [fig["layout"][k]["domain"] for k in ("xaxis", "xaxis2", "xaxis3")]
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:], strict=False))


def test_weights_figure_rejects_missing_layers():
    p = params([4, 6, 3])
    del p["W1"]
    with pytest.raises(ValueError):
        weights_figure(p, FEATURES, CLASSES)


def test_weights_patch_replaces_every_heatmap():
    before, after = params([4, 6, 6, 3], seed=1), params([4, 6, 6, 3], seed=2)
    fig = weights_figure(before, FEATURES, CLASSES)
    patched = apply_patch(fig, weights_patch(after))
    assert patched == json.loads(json.dumps(weights_figure(after, FEATURES, CLASSES)))


# ------------------------------------------------------------------------------ patches
@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 80), data=st.data())
def test_curves_patch_extends_to_exactly_the_full_figure(n, data):
    """figure(first k points) + patch(points k..n) == figure(all n points), for any k."""
    k = data.draw(st.integers(0, n))
    h = history(n, seed=n)
    head = {key: values[:k] for key, values in h.items()}
    tail = {key: values[k:] for key, values in h.items()}
    assert apply_patch(curves_figure(head), curves_patch(tail)) == json.loads(
        json.dumps(curves_figure(h)))


def test_curves_patch_only_extends():
    ops = curves_patch(history(2)).to_plotly_json()["operations"]
    assert {op["operation"] for op in ops} == {"Extend"}
    assert sorted(tuple(op["location"]) for op in ops) == sorted(
        ("data", i, axis) for i in range(4) for axis in ("x", "y"))
