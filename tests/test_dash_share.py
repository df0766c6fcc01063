"""The Share tab without a browser: the link <-> controls, classroom mode's CSS, the exports
(the model JSON loads back into mlpcore and predicts the same labels; the R script carries
the run's exact settings)."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import numpy as np
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard import callbacks as cb
from dashboard.panels import share
from dashboard.sessions import MemoryStore
from dashboard.validation import DEFAULTS, LR_VALUES, REG_VALUES, SPEEDS, ControlError
from mlpcore import Config, Trainer
from mlpcore.export import CSV_COLUMNS, load_model
from mlpcore.urlstate import HIDEABLE

FRESH = {"run": None, "n": 0}  # the page's record before its first update
ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_RAW = {**{k: DEFAULTS[k] for k in (*cb.RUN_KEYS, "lr", "reg", "speed")},
               "data": "iris", "points": None, "classes": None, "noise": None,
               "split": "document", "train_fraction": None, "standardize": []}


def _session(store, config=None, steps=0):
    sid = uuid.uuid4().hex
    with store.session(sid, lambda: Trainer(config or Config.document())) as s:
        s.trainer.step(steps)
    return sid


# ------------------------------------------------------------------------- the link
def test_classroom_css_hides_every_hideable_control():
    assert set(share.HIDE_SELECTORS) == set(HIDEABLE)
    css = (ASSETS / "share.css").read_text(encoding="utf-8")
    assert share.classroom_css() in css
    assert "body:has(#classroom.hide-activation) .control:has(#activation-radio)" in css
    assert share.classroom_class(("activation", "layers")) == \
        "classroom hide-activation hide-layers"


def test_the_default_controls_make_an_empty_query_and_others_round_trip():
    assert share.controls_query(dict(DEFAULT_RAW), "classroom") == ""
    raw = {**DEFAULT_RAW, "hidden": 8, "layers": 2, "lr": LR_VALUES.index(0.15),
           "reg": REG_VALUES.index(0.0), "maxit": 5000, "seed": 42, "display": 10,
           "speed": SPEEDS.index(None), "activation": "tanh", "data": "spiral",
           "points": 80, "classes": 4, "noise": 0.3, "split": "fraction",
           "train_fraction": 0.6, "standardize": ["standardize"]}
    query = share.controls_query(raw, "classroom hide-activation hide-sweep")
    assert query == ("?hidden=8&layers=2&lr=0.15&reg=0.0&maxit=5000&seed=42&display=10"
                     "&speed=max&activation=tanh&data=spiral&points=80&classes=4&noise=0.3"
                     "&split=fraction&train=0.6&standardize=1&hide=activation,sweep")
    back, hide, errors, given = share.query_controls(query)
    assert back == raw and hide == ("activation", "sweep") and errors == []
    assert "hide" in given and "lr" in given
    # an uploaded CSV cannot travel: the link leaves the data set out
    csv_query = share.controls_query({**DEFAULT_RAW, "data": "csv", "hidden": 3}, None)
    assert csv_query == "?hidden=3"


def test_bad_link_values_become_defaults_with_a_sentence_each():
    raw, hide, errors, _given = share.query_controls(
        "?hidden=1000&lr=0.013&activation=evil&speed=7&hide=layers,nope&x=1&seed=3")
    assert raw["hidden"] == 6 and raw["activation"] == "relu" and raw["seed"] == 3
    assert LR_VALUES[raw["lr"]] == 0.015  # snapped to the slider's nearest value
    assert raw["speed"] == SPEEDS.index(50) and hide == ("layers",)
    words = " ".join(errors)
    for part in ("hidden units", "nearest, 0.015", "activation", "speed", '"nope"', '"x"'):
        assert part in words


def test_opening_a_link_sets_the_controls_and_starts_a_run_with_them():
    store = MemoryStore()
    sid = _session(store, steps=100)
    r = share.open_link(store, sid, "?hidden=8&lr=0.1&seed=3&bogus=1&hide=activation")
    keys = [k for k, _cid in share.link_controls()]
    values = dict(zip(keys, r.controls, strict=True))
    assert values["hidden"] == 8 and LR_VALUES[values["lr"]] == 0.1 and values["seed"] == 3
    assert values["points"] is no_update  # iris has no such parameter: the slider keeps its
    assert r.search == "?hidden=8&lr=0.1&seed=3&hide=activation"  # bogus is gone from it
    assert r.classroom == "classroom hide-activation" and r.pulse not in (None, no_update)
    assert 'unknown setting "bogus"' in r.note
    with store.view(sid) as s:  # a new run with exactly those settings
        c = s.trainer.config
        assert (c.hidden, c.lr, c.seed, s.trainer.iteration) == ((8,), 0.1, 3, 0)
        assert s.meta["note"].startswith("Opened a link: hidden 8, lr 0.1, seed 3.")
        assert 'Not used: The link has an unknown setting "bogus"' in s.meta["note"]


def test_a_link_that_is_only_classroom_mode_keeps_the_run():
    store = MemoryStore()
    sid = _session(store, steps=100)
    r = share.open_link(store, sid, "?hide=layers")
    assert r.classroom == "classroom hide-layers" and r.pulse is no_update
    assert r.controls == (no_update,) * len(r.controls)
    with store.view(sid) as s:
        assert s.trainer.iteration == 100
    assert share.open_link(store, sid, "").classroom == "classroom"


def test_forged_and_impossible_links_fall_back_to_the_defaults():
    store = MemoryStore()
    sid = _session(store)
    r = share.open_link(store, sid, "?" + "a" * 5000)  # a browser could hold this
    assert "longer than 4096 characters; using the defaults" in r.note and r.search == ""
    for forged in (12, ["?lr=1"], "?" + "a" * 70_000):  # no browser sends these
        with pytest.raises(ControlError, match="address is malformed"):
            share.open_link(store, sid, forged)
    # a network too big for its data set: every control at its default, and why
    r = share.open_link(store, sid, "?hidden=64&layers=4&data=spiral&points=1000&classes=10")
    assert "cannot be used" in r.note and "using the defaults" in r.note
    with store.view(sid) as s:
        assert s.trainer.config.hidden == (6,) and s.trainer.dataset.name == "iris"
    with pytest.raises(ControlError):
        share.open_link(store, "not-a-session", "?lr=1")


def test_controls_write_the_query_and_bad_values_are_refused():
    store = MemoryStore()
    sid = uuid.uuid4().hex
    raw = {**DEFAULT_RAW, "hidden": 9}
    r = share.sync_link(store, "controls", sid, "", "classroom hide-seed", raw)
    assert r.search == "?hidden=9&hide=seed" and r.pulse is no_update
    assert sid not in store  # writing the address touches no run
    with pytest.raises(PreventUpdate):  # the page's URL says so already
        share.sync_link(store, "controls", sid, "?hidden=9&hide=seed", "classroom hide-seed",
                        raw)
    for forged in ({**raw, "hidden": 10**6}, {**raw, "lr": "x"}, {**raw, "standardize": 1}):
        for trigger in ("controls", "url"):  # every value is checked, whichever the direction
            with pytest.raises(ControlError):
                share.sync_link(store, trigger, sid, "", "classroom", forged)
    for session, search, hide in ((None, "", "classroom"), (sid, 5, "classroom"),
                                  (sid, "", "classroom hide-everything"), (sid, "", 7)):
        with pytest.raises(ControlError):
            share.sync_link(store, "url", session, search, hide, raw)
    assert sid not in store


def test_the_link_text_is_the_pages_address_with_its_query():
    assert share.link_text("share", "?lr=0.1", "http://lab.example:8050/x?old=1#frag") == \
        "http://lab.example:8050/x?lr=0.1"
    with pytest.raises(PreventUpdate):
        share.link_text("guide", "?lr=0.1", "http://x/")
    for href in ("javascript:alert(1)", "http://a b/", None, "http://x/" + "a" * 3000):
        with pytest.raises(ControlError):
            share.link_text("share", "", href)


# ------------------------------------------------------------------------------ export
def test_the_exported_model_loads_back_and_predicts_the_same_labels():
    store = MemoryStore()
    sid = _session(store, Config.document().replace(hidden=(9,), seed=4), steps=700)
    download, note = share.export_file(store, "model", sid)
    assert download["filename"] == "mlplab-model-700.json" and note.startswith("Downloaded")
    model = load_model(download["content"])
    with store.view(sid) as s:
        trainer = s.trainer
        X = np.vstack([trainer.dataset.X_train, trainer.dataset.X_test])
        np.testing.assert_array_equal(model.predict(X, raw=False), trainer.predict(X))
        for k, v in trainer.params.items():
            np.testing.assert_array_equal(model.params[k], v)  # bit for bit
    assert model.config.hidden == (9,) and model.meta["metrics"]["iterations"] == 700


def test_the_history_csv_has_a_row_per_display_step():
    store = MemoryStore()
    sid = _session(store, steps=500)
    download, _note = share.export_file(store, "history", sid)
    rows = list(csv.reader(io.StringIO(download["content"])))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 10
    assert [int(r[0]) for r in rows[1:]] == list(range(50, 501, 50))


def test_the_r_script_carries_the_runs_exact_settings():
    store = MemoryStore()
    config = Config.document().replace(hidden=(8,), lr=0.15, reg=0.0, seed=5, maxit=2000,
                                       display=20)
    sid = _session(store, config, steps=40)
    download, _note = share.export_file(store, "r", sid)
    script = download["content"]
    assert download["filename"] == "mlplab-replay-40.R"
    assert "set.seed(5)\n" in script
    assert ("hidden = 8, maxit = 2000, abstol = 0.01, lr = 0.15, reg = 0.0,\n"
            "                  display = 20, random.seed = 5)") in script
    assert 'sample.kind "Rounding"' in script and "sample(1:50,25)" in script
    disabled, words, run = share.r_state(store, FRESH, "share", sid, None)
    assert disabled is False and "replays this run" in words and len(run) == 32


def test_the_r_button_says_why_a_run_cannot_be_replayed():
    store = MemoryStore()
    sid = _session(store, Config.document().replace(activation="tanh", hidden=(6, 6)))
    disabled, words, run = share.r_state(store, FRESH, "share", sid, None)
    assert disabled is True
    assert "2 hidden layers" in words and "activation is tanh" in words
    with pytest.raises(PreventUpdate):  # the same run: nothing to redo
        share.r_state(store, {"run": run, "n": 0, "it": 0}, "share", sid, run)
    with pytest.raises(PreventUpdate):
        share.r_state(store, FRESH, "guide", sid, None)
    with pytest.raises(ControlError, match="cannot be replayed"):
        share.export_file(store, "r", sid)
