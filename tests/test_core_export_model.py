"""Exports: the model as JSON (loads back and predicts the Trainer's labels) and the history
as an R-friendly CSV."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from mlpcore import Config, Trainer, make_dataset
from mlpcore.export import (
    CSV_COLUMNS,
    FORMAT_VERSION,
    history_to_csv,
    load_model,
    model_from_json,
    model_to_dict,
    model_to_json,
)


@pytest.fixture(scope="module")
def document():
    t = Trainer(Config.document())
    t.step(3000)
    return t


@pytest.fixture(scope="module")
def standardised():
    ds = make_dataset("spiral", seed=5, n_points=40, split="fraction", train_fraction=0.6,
                      standardize=True)
    t = Trainer(Config(seed=5, hidden=(12,), lr=0.5, maxit=400, display=20), ds)
    t.step(400)
    return t


def test_document_model_round_trips_and_predicts_as_the_trainer(document):
    text = model_to_json(document)
    doc = json.loads(text)
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["data"]["feature_names"] == document.dataset.feature_names
    assert doc["data"]["train_indices"] == document.dataset.train_indices.tolist()
    assert doc["metrics"]["iterations"] == 3000 and doc["metrics"]["status"] == "maxit"
    config, params, meta = model_from_json(text)
    assert config == document.config
    for k, v in document.params.items():  # bit for bit
        assert params[k].shape == v.shape and np.array_equal(params[k], v)
    model = load_model(text)
    for X in (document.dataset.X_test, document.dataset.X_train,
              np.random.default_rng(0).normal(5, 2, size=(500, 4))):
        assert np.array_equal(model.predict(X), document.predict(X))
        assert np.array_equal(model.predict_proba(X), document.predict_proba(X))
    assert meta["metrics"]["test_accuracy"] == document.accuracy("test")
    assert meta["metrics"]["confusion"] == document.confusion("test").tolist()


def test_standardised_model_predicts_from_raw_and_network_units(standardised):
    t = standardised
    model = load_model(model_to_json(t).encode())
    assert model.center is not None and np.array_equal(model.center, t.dataset.feature_center)
    # the network's own inputs, as Trainer.predict takes them
    assert np.array_equal(model.predict(t.dataset.X_test, raw=False),
                          t.predict(t.dataset.X_test))
    # raw points: the same data set without standardisation gives the raw rows
    raw = make_dataset("spiral", seed=5, n_points=40, split="fraction", train_fraction=0.6)
    assert np.array_equal(raw.train_indices, t.dataset.train_indices)
    for X in (raw.X_test, raw.X_train):
        assert np.array_equal(model.predict(X), t.predict(t.dataset.transform(X)))
    names = model.predict_names(raw.X_test)
    assert names == [t.dataset.class_names[k] for k in t.predict(t.dataset.X_test)]
    assert t.accuracy("test") > 0.5  # a run that learnt something, so labels vary
    assert len(set(names)) > 1


def test_diverged_run_gives_valid_json_that_refuses_to_load():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10.0, maxit=50, display=1))
    t.step(50)
    assert t.status == "diverged"
    text = model_to_json(t)
    for token in ("NaN", "Infinity"):
        assert token not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    with pytest.raises(ValueError, match="diverged"):
        load_model(text)


def _doc(document) -> dict:
    return json.loads(model_to_json(document))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something"), "not an MLP Lab model"),
    (lambda d: d.update(format_version=99), "unsupported model format version 99"),
    (lambda d: d.update(extra=1), "exactly the fields"),
    (lambda d: d["params"].pop("b2"), "params must be exactly W1, b1, W2, b2"),
    (lambda d: d["params"]["W1"].pop(), "W1 must be 4 rows of 6 numbers"),
    (lambda d: d["params"]["W2"][0].__setitem__(0, "1"), "W2 must hold only numbers"),
    (lambda d: d["params"]["b1"][0].__setitem__(0, True), "b1 must hold only numbers"),
    (lambda d: d["params"]["b1"][0].__setitem__(0, None), "not finite"),
    (lambda d: d["config"].update(hidden=[7]), "W1 must be 4 rows of 7 numbers"),
    (lambda d: d["config"].update(lr=-1), "learning rate"),
    (lambda d: d["data"].update(class_names=["a"]), "2 classes"),
    (lambda d: d["data"].update(center=[0, 0, 0, 0]), "both be given or both be null"),
    (lambda d: d["data"].update(center=[0] * 4, scale=[1, 1, 0, 1]), "scale must be positive"),
    (lambda d: d["data"].update(train_indices=[0, 1]), "row numbers"),
    (lambda d: d.update(metrics=[]), "metrics must be a JSON object"),
])
def test_malformed_models_are_refused_with_a_sentence(document, change, message):
    d = _doc(document)
    change(d)
    with pytest.raises(ValueError, match=message):
        model_from_json(json.dumps(d))


def test_parsing_is_strict_before_and_while_reading(document):
    text = model_to_json(document)
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        model_from_json(text, max_bytes=100)
    with pytest.raises(ValueError, match="larger than"):
        model_from_json(text.encode(), max_bytes=100)
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json(text[:-5])
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json(text.replace('"loss": ', '"loss": NaN, "x": ', 1))
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json("[" * 100_000)
    with pytest.raises(ValueError, match="not UTF-8"):
        model_from_json(b"\xff\xfe{}")
    with pytest.raises(ValueError, match="expected the model's JSON text"):
        model_from_json(None)
    assert load_model(text.encode("utf-8")).predict(document.dataset.X_test).shape == (75,)


def test_loaded_model_checks_its_input(document):
    model = load_model(model_to_json(document))
    with pytest.raises(ValueError, match=r"shape \(rows, 4\)"):
        model.predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="table of numbers"):
        model.predict([["a", "b", "c", "d"]])


# ------------------------------------------------------------------------------ history CSV
def test_history_csv_is_the_history_exactly(document):
    text = history_to_csv(document)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    h = document.history
    assert len(rows) == 1 + len(h) == 61
    fields = ("step", "loss", "data_loss", "reg_loss", "train_acc", "test_acc", "test_loss")
    for i, row in enumerate(rows[1:]):
        assert int(row[0]) == h.step[i]
        assert [float(v) for v in row[1:]] == [getattr(h, f)[i] for f in fields[1:]]
    df = pd.read_csv(io.StringIO(text))  # as R's read.csv would: numeric columns
    assert list(df.columns) == list(CSV_COLUMNS) and df.dtypes.iloc[1:].eq(float).all()
    assert history_to_csv(document.history) == text


def test_history_csv_writes_missing_values_as_r_does():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10.0, maxit=20, display=1))
    t.step(20)
    h = t.history
    h.append(99, math.inf, -math.inf, 0.5, math.nan, math.nan, 1e-300)  # every odd value
    last = history_to_csv(h).rstrip("\n").split("\n")[-1]
    assert last == "99,Inf,-Inf,0.5,NA,NA,1e-300"
    assert "nan" not in history_to_csv(h).lower().replace("na,", "")


def test_model_dict_is_json_safe(standardised):
    d = model_to_dict(standardised)
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["data"]["scale"] == standardised.dataset.feature_scale.tolist()
