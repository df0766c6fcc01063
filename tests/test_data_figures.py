"""The figures adapt to the data (issue 8): K x K confusion matrices named by class, W1 rows
named by feature, D = 2 and K up to 20; names from a CSV are labels, not markup."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.figures import (
    LABEL_CHARS,
    axis_labels,
    confusion_figure,
    confusion_text_size,
    weights_figure,
)
from dashboard.patches import confusion_patch, weights_patch
from mlpcore import Config, Dataset, Trainer, make_dataset


def _dataset(n_features: int, n_classes: int, rows_per_class: int = 4) -> Dataset:
    rng = np.random.default_rng(n_features * 100 + n_classes)
    y = np.repeat(np.arange(n_classes), rows_per_class)
    X = rng.normal(size=(y.size, n_features)) + y[:, None]
    return Dataset("synthetic", X, y, X, y, [f"f{j}" for j in range(n_features)],
                   [f"class {k}" for k in range(n_classes)])


@pytest.mark.parametrize("n_features, n_classes", [(2, 2), (2, 20), (4, 3), (50, 20)])
def test_confusion_and_weights_fit_any_shape(n_features, n_classes):
    trainer = Trainer(Config(hidden=(5,)), _dataset(n_features, n_classes))
    trainer.step(20)
    ds = trainer.dataset
    cm = trainer.confusion("test")
    fig = confusion_figure(cm, ds.class_names)
    trace = fig["data"][0]
    assert trace["x"] == trace["y"] == ds.class_names
    assert np.array(trace["z"]).shape == (n_classes, n_classes)
    assert np.array(trace["z"]).sum() == len(ds.y_test)
    assert trace["textfont"]["size"] == confusion_text_size(n_classes) >= 9
    weights = weights_figure(trainer.params, ds.feature_names, ds.class_names)
    w1, w2 = weights["data"]
    assert w1["y"] == [*ds.feature_names, "b1"] and len(w1["z"]) == n_features + 1
    assert w2["x"] == ds.class_names and len(w2["z"][0]) == n_classes
    json.dumps(fig), json.dumps(weights)  # plain, serialisable dicts
    # the tick's patches keep the shapes
    assert np.array(confusion_patch(cm).to_plotly_json()["operations"][0]["params"]["value"]
                    ).shape == (n_classes, n_classes)
    ops = weights_patch(trainer.params).to_plotly_json()["operations"]
    assert [np.array(op["params"]["value"]).shape for op in ops] == [
        (n_features + 1, 5), (6, n_classes)]


def test_the_text_shrinks_as_the_cells_do():
    assert [confusion_text_size(k) for k in (2, 3, 4, 5, 8, 10, 20)] == [20, 20, 20, 16, 10,
                                                                          9, 9]


def test_a_spirals_figures():
    ds = make_dataset("spiral", 1, n_classes=5)
    trainer = Trainer(Config.document(), ds)
    fig = weights_figure(trainer.params, ds.feature_names, ds.class_names)
    assert fig["data"][0]["y"] == ["x1", "x2", "b1"]
    assert fig["data"][1]["x"] == [f"arm {k}" for k in range(1, 6)]


def test_names_are_labels_not_markup_and_stay_distinct():
    names = ["<b>bold</b>", "R&D", "a" * 40, "a" * 39 + "b", "plain"]
    labels = axis_labels(names)
    assert labels[0] == "&lt;b&gt;bold&lt;/b&gt;" and labels[1] == "R&amp;D"
    assert labels[2] == "a" * (LABEL_CHARS - 1) + "…"
    assert labels[3] == "a" * (LABEL_CHARS - 1) + "… (4)"  # cut to the same text: told apart
    assert labels[4] == "plain" and len(set(labels)) == len(labels)


def test_a_feature_called_like_the_bias_row_keeps_its_own_row():
    ds = Dataset("b", np.eye(3)[:, :2].repeat(2, 0), np.array([0, 0, 1, 1, 0, 1]),
                 np.eye(3)[:, :2].repeat(2, 0), np.array([0, 0, 1, 1, 0, 1]), ["b1", "x"],
                 ["no", "yes"])
    trainer = Trainer(Config(hidden=(3,)), ds)
    rows = weights_figure(trainer.params, ds.feature_names, ds.class_names)["data"][0]["y"]
    assert rows == ["b1", "x", "b1 (bias)"]
