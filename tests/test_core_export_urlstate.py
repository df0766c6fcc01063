"""Settings in a shareable link: round trips exactly, and any query at all gives valid settings
plus plain-English notes, never an exception."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcore import DATASETS, TRAIN_FRACTION, Config, make_dataset
from mlpcore.urlstate import (
    DEFAULTS,
    HIDEABLE,
    UrlBounds,
    normalize,
    query_to_settings,
    settings_to_query,
)

B = UrlBounds()


@st.composite
def lab_settings(draw):
    data = draw(st.sampled_from(sorted(DATASETS)))
    s = {
        "hidden": draw(st.integers(1, B.max_hidden)),
        "layers": draw(st.integers(1, B.max_layers)),
        "lr": draw(st.floats(*B.lr_range)),
        "reg": draw(st.floats(*B.reg_range)),
        "maxit": draw(st.integers(1, B.max_iterations // B.maxit_step)) * B.maxit_step,
        "seed": draw(st.integers(*B.seed_range)),
        "display": draw(st.integers(*B.display_range)),
        "speed": draw(st.sampled_from(B.speeds)),
        "activation": draw(st.sampled_from(["relu", "tanh", "sigmoid", "identity"])),
        "data": data,
        "split": draw(st.sampled_from(["document", "fraction"])),
        "standardize": draw(st.booleans()),
        "hide": draw(st.lists(st.sampled_from(HIDEABLE), unique=True)),
        "points": None, "classes": None, "noise": None, "train": None,
    }
    for p in DATASETS[data].params:
        key = {"n_points": "points", "n_classes": "classes", "noise": "noise"}[p.name]
        s[key] = draw(st.integers(int(p.min), int(p.max)) if p.integer
                      else st.floats(p.min, p.max))
    if s["split"] == "fraction":
        s["train"] = draw(st.floats(TRAIN_FRACTION["min"], TRAIN_FRACTION["max"]))
    s["hide"] = [n for n in HIDEABLE if n in s["hide"]]
    return s


@settings(max_examples=150, deadline=None)
@given(lab_settings(), st.booleans())
def test_settings_round_trip_exactly(s, omit_defaults):
    query = settings_to_query(s, omit_defaults=omit_defaults)
    back, errors = query_to_settings("?" + query)
    assert errors == []
    assert back == s
    assert query_to_settings("https://lab.example/app?" + query + "#top") == (s, [])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.lists(
    st.tuples(st.sampled_from([*DEFAULTS, "x", "lr", "noise"]),
              st.text(max_size=12) | st.sampled_from(["nan", "inf", "1e999", "-0", "0x10",
                                                      "1_000", "max", "10", "0.5", ""])),
    max_size=20).map(lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)))
def test_any_query_gives_valid_settings_and_sentences(query):
    s, errors = query_to_settings(query)
    assert set(s) == set(DEFAULTS)
    assert all(isinstance(e, str) and e.endswith(".") for e in errors)
    # what came out can always be written back and read again, unchanged and without notes
    assert query_to_settings(settings_to_query(s)) == (s, [])
    # and it makes a valid run
    Config(hidden=(s["hidden"],) * s["layers"], lr=s["lr"], reg=s["reg"], maxit=s["maxit"],
           seed=s["seed"], display=s["display"], activation=s["activation"])


def test_defaults_and_the_documents_settings():
    s, errors = query_to_settings("")
    assert errors == [] and s == normalize(DEFAULTS)
    d = Config.document()
    assert (s["hidden"], s["lr"], s["reg"], s["maxit"], s["seed"], s["display"]) == \
        (d.hidden[0], d.lr, d.reg, d.maxit, d.seed, d.display)
    assert settings_to_query(s, omit_defaults=True) == ""


def test_bad_values_fall_back_with_plain_sentences():
    s, errors = query_to_settings(
        "?lr=abc&hidden=500&foo=1&noise=0.2&train=0.5&hide=activation,zzz&maxit=150&speed=3"
        "&lr=1&seed=1_000&reg=nan&standardize=perhaps")
    assert s == normalize(dict(DEFAULTS, hide=["activation"]))
    assert errors == [
        'The link has an unknown setting "foo"; ignored.',
        'The link gives "lr" more than once; the first value is used.',
        'The link\'s hidden units "500" is outside 1 to 64; using 6.',
        'The link\'s learning rate "abc" is not a number; using 0.01.',
        'The link\'s regularisation "nan" is not a number; using 0.001.',
        'The link\'s max iterations "150" is not a multiple of 100; using 3000.',
        'The link\'s seed "1_000" is not a whole number; using 1.',
        'The link\'s speed "3" must be one of 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 or '
        'max; using 50.',
        'The link\'s noise "0.2" does not apply to the iris data set; it was ignored.',
        'The link\'s standardize "perhaps" must be 1 or 0; using 0.',
        'The link asks to hide an unknown control "zzz"; ignored.',
        "The link's train fraction applies only to split=fraction; ignored.",
    ]


def test_data_set_settings_follow_the_data_set():
    s, errors = query_to_settings("data=spiral&noise=0.4&split=fraction&standardize=1")
    assert errors == []
    assert (s["points"], s["classes"], s["noise"], s["train"]) == (100, 3, 0.4, 0.7)
    ds = make_dataset(s["data"], seed=s["seed"], n_points=s["points"], n_classes=s["classes"],
                      noise=s["noise"], split=s["split"], train_fraction=s["train"],
                      standardize=s["standardize"])
    assert ds.standardized and len(ds.y_train) == 210
    s, errors = query_to_settings("data=circles&classes=4")
    assert s["classes"] is None and errors == [
        'The link\'s classes "4" does not apply to the circles data set; it was ignored.']
    s, errors = query_to_settings("data=csv")
    assert s["data"] == "iris" and "must be one of iris" in errors[0]


def test_server_limits_and_slider_values_apply():
    tight = UrlBounds(max_hidden=8, lr_values=(0.001, 0.0015, 0.01, 0.015, 0.1),
                      reg_values=(0.0, 1e-6, 1e-3))
    s, errors = query_to_settings("hidden=16&lr=0.013&reg=0", tight)
    assert (s["hidden"], s["lr"], s["reg"]) == (6, 0.015, 0.0)
    assert errors == ['The link\'s hidden units "16" is outside 1 to 8; using 6.',
                      "The link's learning rate 0.013 is not one of the slider's values; "
                      "using the nearest, 0.015."]


def test_oversized_or_crowded_queries_give_the_defaults():
    s, errors = query_to_settings("lr=0.1&" + "x" * 5000)
    assert s == normalize(DEFAULTS) and "longer than 4096" in errors[0]
    s, errors = query_to_settings("&".join(f"k{i}=1" for i in range(60)))
    assert s == normalize(DEFAULTS) and errors == [
        "The link has too many settings; using the defaults."]
    assert query_to_settings(None) == (normalize(DEFAULTS), [
        "The link's settings could not be read; using the defaults."])


@pytest.mark.parametrize("bad, message", [
    ({"lr": 0.0}, "outside"),
    ({"hidden": True}, "wrong type"),
    ({"standardize": 1}, "wrong type"),
    ({"noise": 0.1}, "does not apply to the iris"),
    ({"hide": "layers"}, "hide must be a list"),
    ({"colour": "red"}, "unknown setting"),
    ({"maxit": 150}, "multiple of 100"),
])
def test_settings_to_query_refuses_what_could_not_come_back(bad, message):
    with pytest.raises(ValueError, match=message):
        settings_to_query(bad)
