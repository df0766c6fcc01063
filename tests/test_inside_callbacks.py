"""Issue 7's panel callbacks called as plain functions (dashboard/panels/inspector.py,
boundary.py, health.py), the status line's "why?" for a diverged run, and forged values
posted to the panels with their tabs open."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import plotly
import pytest
from dash import no_update
from dash._patch import Patch
from dash.exceptions import PreventUpdate

import dashboard.app  # noqa: F401  (the app imports the panels in the right order)
from dashboard import callbacks as cb
from dashboard import ids
from dashboard.app import create_app
from dashboard.figures_inside import untyped
from dashboard.markup_inside import num
from dashboard.panels import boundary, health, inspector
from dashboard.panels.throttle import THROTTLE_SECONDS, plan
from dashboard.sessions import MemoryStore
from mlpcore import Config, Trainer, gradient_report
from mlpcore.anatomy import anatomy

SID = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


def plain(x):
    return json.loads(json.dumps(x, cls=plotly.utils.PlotlyJSONEncoder))


def dumps(x) -> str:
    return json.dumps(plain(x), ensure_ascii=False)


def size(x) -> int:
    return len(json.dumps(plain(x), separators=(",", ":")).encode())


def make_store(config=None, steps=300, paused=True):
    store = MemoryStore()
    with store.session(SID, lambda: Trainer(config or Config.document())) as s:
        while steps and not s.trainer.done:
            steps -= s.trainer.step(min(steps, 50)) or steps
        s.meta["paused"] = paused
        run = s.meta["run"]
    return store, {"run": run, "n": 1, "it": 0}


def step(store, n):
    with store.session(SID, lambda: None) as s:
        s.trainer.step(n)


def trainer(store):
    with store.view(SID) as s:
        return s.trainer


def is_refusal(result, message_part):
    text = dumps(result[-1])
    others = [v for v in result[:-1] if v is not no_update]
    return not others and "Not applied" in text and message_part in text


# ------------------------------------------------------------------------------- plan
def test_plan_draws_patches_skips_and_throttles():
    shown = {"key": "a", "sig": "1", "t": NOW}
    assert plan(None, "a", "1", False, False, NOW) == "full"
    assert plan(shown, "b", "1", False, False, NOW) == "full"
    assert plan(shown, "a", "1", False, True, NOW) == "skip"  # nothing new
    assert plan(shown, "a", "2", False, False, NOW) == "patch"  # paused: always at once
    assert plan(shown, "a", "2", True, False, NOW + 0.1) == "skip"  # running: throttled
    assert plan(shown, "a", "2", True, True, NOW + 0.1) == "patch"  # asked for: at once
    assert plan(shown, "a", "2", True, False, NOW + THROTTLE_SECONDS + 0.01) == "patch"
    assert plan(shown, "a", "2", True, False, NOW - 5) == "patch"  # a clock that went back


# -------------------------------------------------------------------------- inspector
def test_inspector_draws_cards_once_then_sends_only_numbers():
    store, client = make_store()
    r = inspector.update(store, ids.TABS_PANELS, client, inspector.TAB, SID, 2, "sample",
                         None, None, now=NOW)
    assert isinstance(r.body, list) and r.row is no_update and r.row_max == 75
    assert r.rows_text == "of 75" and r.status is no_update
    a = anatomy(trainer(store), rows=1)
    dscores = next(e["value"] for e in a["entries"] if e["name"] == "dscores")
    assert r.tables["dscores"]["v"] == [[num(v) for v in dscores[0]]]
    assert "Training sample 2 of 75" in dumps(r.head)
    with pytest.raises(PreventUpdate):  # the same picture again: nothing sent
        inspector.update(store, None, client, inspector.TAB, SID, 2, "sample", None,
                         r.shown, now=NOW + 5)
    step(store, 7)
    r2 = inspector.update(store, None, client, inspector.TAB, SID, 2, "sample", None,
                          r.shown, now=NOW + 5)
    assert r2.body is no_update  # the formulas stay; only the numbers travel
    a = anatomy(trainer(store), rows=1)
    dscores = next(e["value"] for e in a["entries"] if e["name"] == "dscores")
    assert r2.tables["dscores"]["v"] == [[num(v) for v in dscores[0]]]
    assert size(r2.tables) < 12000 and size(r.body) < 60000  # numbers ~10 KB, cards ~40 KB
    with pytest.raises(PreventUpdate):
        inspector.update(store, None, client, "guide", SID, 2, "sample", None, None)


def test_inspector_throttles_a_running_run_but_not_a_click():
    store, client = make_store(paused=False)
    r = inspector.update(store, ids.TABS_PANELS, client, inspector.TAB, SID, 1, "sample",
                         None, None, now=NOW)
    step(store, 1)
    with pytest.raises(PreventUpdate):
        inspector.update(store, ids.STORE_CLIENT, client, inspector.TAB, SID, 1, "sample",
                         None, r.shown, now=NOW + 0.05)
    r2 = inspector.update(store, inspector.BUTTON_NEXT, client, inspector.TAB, SID, 1,
                          "sample", None, r.shown, now=NOW + 0.05)
    assert r2.row == 2
    step(store, 1)
    r3 = inspector.update(store, None, client, inspector.TAB, SID, 2, "sample", None,
                          r2.shown, now=NOW + 0.06 + inspector.LIVE_EVERY)
    assert r3.tables is not no_update


def test_inspector_rows_wrap_clamp_and_batch():
    store, client = make_store()
    prev = inspector.update(store, inspector.BUTTON_PREV, client, inspector.TAB, SID, 1,
                            "sample", None, None)
    assert prev.row == 75
    nxt = inspector.update(store, inspector.BUTTON_NEXT, client, inspector.TAB, SID, 75,
                           "sample", None, None)
    assert nxt.row == 1
    big = inspector.update(store, None, client, inspector.TAB, SID, 500, "sample", None, None)
    assert big.row == 75  # a row past the training set: the last one
    empty = inspector.update(store, None, client, inspector.TAB, SID, None, "sample", None,
                             None)
    assert empty.row == 1
    batch = inspector.update(store, None, client, inspector.TAB, SID, 3, "batch", None, None)
    assert batch.tables["h1"]["rh"] == [str(r) for r in range(3, 11)]
    assert "All 75 training rows" in dumps(batch.head)
    shapes = dumps(batch.body)
    assert "75 × 6" in shapes and "75 × 3" in shapes


@pytest.mark.parametrize("field, value, words", [
    ("row", 0, "The sample"), ("row", "3", "The sample"), ("row", 2.5, "The sample"),
    ("mode", "everything", "view"), ("pick", {"via": "elsewhere"}, "picked sample"),
    ("shown", {"key": "<script>"}, "panel"), ("client", {"run": "x"}, "run id"),
    ("session", "../etc", "session id"),
])
def test_inspector_refuses_forged_values_and_leaves_the_run_alone(field, value, words):
    store, client = make_store()
    args = {"client": client, "session": SID, "row": 1, "mode": "sample", "pick": None,
            "shown": None, field: value}
    before = trainer(store).iteration
    r = inspector.update(store, None, args["client"], inspector.TAB, args["session"],
                         args["row"], args["mode"], args["pick"], args["shown"])
    assert is_refusal(r, words), r
    assert trainer(store).iteration == before


def test_gradient_check_agrees_with_mlpcore():
    store, _client = make_store()
    block, status = inspector.check_gradients(store, SID)
    assert status is no_update
    text = dumps(block)
    report = gradient_report(trainer(store))
    assert f"At iteration 300: {report['message']}" in text
    for r in report["tensors"]:
        assert f"{r['max_rel_error']:.1e}" in text and r["verdict"] in ("good", "acceptable")
    assert is_refusal(inspector.check_gradients(store, "nope"), "session id")


def test_a_confusion_cell_picks_matching_training_rows_in_turn():
    store, _client = make_store(steps=1500)
    t = trainer(store)
    d = t.dataset
    pred = t.predict(d.X_train)
    k, j = 1, 1  # versicolor predicted versicolor
    matches = np.flatnonzero((d.y_train == k) & (pred == j))
    assert len(matches) > 2
    click = {"points": [{"x": d.class_names[j], "y": d.class_names[k], "z": 3}]}
    row, tab, pick, status = inspector.pick_from_confusion(store, click, SID, 1)
    assert (row, tab, status) == (matches[0] + 1, inspector.TAB, no_update)
    assert pick == {"via": "confusion", "row": row, "true": k, "pred": j, "found": True,
                    "matches": len(matches)}
    row2 = inspector.pick_from_confusion(store, click, SID, row)[0]
    assert row2 == matches[1] + 1  # the next one on the next click
    last = inspector.pick_from_confusion(store, click, SID, int(matches[-1]) + 1)[0]
    assert last == matches[0] + 1  # and round again
    missing = [(a, b) for a in range(3) for b in range(3)
               if not np.any((d.y_train == a) & (pred == b))][0]
    click = {"points": [{"x": d.class_names[missing[1]], "y": d.class_names[missing[0]]}]}
    row, tab, pick, _status = inspector.pick_from_confusion(store, click, SID, 7)
    assert row is no_update and tab == inspector.TAB
    assert pick == {"via": "confusion", "row": 7, "true": missing[0], "pred": missing[1],
                    "found": False, "matches": 0}
    with pytest.raises(PreventUpdate):  # a class this run does not have
        inspector.pick_from_confusion(store, {"points": [{"x": "rose", "y": "setosa"}]}, SID, 1)
    assert is_refusal(inspector.pick_from_confusion(store, {"points": "x"}, SID, 1), "click")


# ------------------------------------------------------------------ decision boundary
def test_boundary_defaults_to_the_petals_and_patches_while_training():
    store, client = make_store()
    r = boundary.update(store, ids.TABS_PANELS, client, boundary.TAB, SID, None, None, 1,
                        None, now=NOW)
    assert (r.value_x, r.value_y) == (2, 3)
    assert [o["label"] for o in r.options_x] == trainer(store).dataset.feature_names
    assert r.figure["data"][0]["type"] == "heatmap"
    step(store, 200)
    r2 = boundary.update(store, None, client, boundary.TAB, SID, 2, 3, 1, r.shown, now=NOW + 1)
    assert isinstance(r2.figure, Patch) and r2.options_x is no_update
    ops = plain(r2.figure)["operations"]
    assert [op["location"] for op in ops][0] == ["data", 0, "z"]
    t = trainer(store)
    z = untyped(ops[0]["params"]["value"])
    assert len(z) == 60 and len(z[0]) == 60
    assert size(r2.figure) < 8000 and size(r.figure) < 30000
    ring = boundary.update(store, ids.TABS_PANELS, client, boundary.TAB, SID, 2, 3, 5,
                           r2.shown, now=NOW + 1)
    ops = plain(ring.figure)["operations"]
    assert [op["location"] for op in ops] == [["data", 3, "x"], ["data", 3, "y"]]
    assert ops[0]["params"]["value"] == [pytest.approx(t.dataset.X_train[4, 2])]
    swapped = boundary.update(store, ids.TABS_PANELS, client, boundary.TAB, SID, 1, 1, 5,
                              ring.shown, now=NOW + 1)
    assert (swapped.value_x, swapped.value_y) == (1, 0)  # never the same feature twice
    gone = boundary.update(store, None, client, boundary.TAB, SID, 7, 40, 5, swapped.shown)
    assert (gone.value_x, gone.value_y) == (2, 3)  # features this data set does not have


def test_clicking_a_training_point_opens_it_in_the_inspector():
    row, tab, pick, status = boundary.pick_point({"points": [{"customdata": 12, "x": 1}]})
    assert (row, tab, pick, status) == (12, inspector.TAB, {"via": "boundary", "row": 12},
                                        no_update)
    with pytest.raises(PreventUpdate):  # a test point carries no row
        boundary.pick_point({"points": [{"x": 1, "y": 2}]})
    for forged in ({"points": [{"customdata": 0}]}, {"points": []}, "x", 5,
                   {"points": [{"customdata": "3"}]}):
        assert is_refusal(boundary.pick_point(forged), "click")


# ---------------------------------------------------------------------- training health
def test_health_draws_then_extends_and_warns_of_dead_units():
    store, client = make_store(Config.document().replace(lr=1.5), steps=300)
    r = health.update(store, ids.TABS_PANELS, client, health.TAB, SID, None, now=NOW)
    text = dumps(r.hints)
    assert "hint-error" in text and "dead" in text and r.diverged == []
    assert r.loss["data"][0]["x"] == [50, 100, 150, 200, 250, 300]
    step(store, 100)
    r2 = health.update(store, None, client, health.TAB, SID, r.shown, now=NOW + 1)
    ops = plain(r2.loss)["operations"]
    assert ops[0] == {"operation": "Extend", "location": ["data", 0, "x"],
                      "params": {"value": [350, 400]}}
    assert r2.shown["n"] == 8 and size(r2.loss) + size(r2.bars) + size(r2.hints) < 3000


def test_a_diverged_run_is_explained_in_health_and_in_the_status():
    config = Config.document().replace(lr=10.0, seed=2024, hidden=(16,))
    store, client = make_store(config, steps=10)
    t = trainer(store)
    assert t.status == "diverged"
    r = health.update(store, ids.TABS_PANELS, client, health.TAB, SID, None)
    text = dumps(r.diverged)
    assert "Why the run diverged" in text and "Diverged at iteration" in text
    assert "correct.logprobs (Op.[6]-[7]" in text and "10 → try 1" in text
    assert r.hints == []  # the explainer says it; the one hint would repeat it
    children, state, _it = cb.status_view(t, {"paused": True})
    status = dumps(children)
    assert state == "diverged" and "Diverged at iteration 4" in status
    assert "Why? correct.logprobs (Op.[6]-[7]) was the first quantity to become non-finite" \
        in status and "the last finite loss was 2.952 (iteration 3)" in status
    inside = inspector.update(store, None, client, inspector.TAB, SID, 1, "batch", None, None)
    assert inside.tables["data_loss"] == {"k": "s", "s": "∞", "c": "bad",
                                          "w": "mean of 75 rows' −log q_y = ∞"}


# ------------------------------------------------------------- forged values over HTTP
PANEL_CALLBACKS = ("inspector_update", "inspector_gradcheck", "inspector_pick_cell",
                   "boundary_update", "boundary_pick", "health_update")
ABSURD = [10**9, -1, math.nan, math.inf, 6.5, True, "", "6", "x" * 5000, [], [6], {},
          {"$gt": 0}, {"points": [{"customdata": 10**12}]}, "0" * 32]


def test_forged_values_to_the_open_panels_get_a_plain_answer(caplog):
    """Every value of every panel callback, forged in turn, with the panel's tab open: a
    value validation refuses answers 200 with only the status line and one log line; any
    other answers 200 or 204; nothing is a 500, and the run is untouched."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from _reliability import VALIDATED, callback_body, callback_specs

    from dashboard.validation import ControlError, validate

    caplog.set_level(logging.INFO, logger="mlplab")
    store, client = make_store()
    app = create_app(store)
    http = app.server.test_client()
    specs = {k: v for k, v in callback_specs(app).items() if k in PANEL_CALLBACKS}
    assert set(specs) == set(PANEL_CALLBACKS)
    good = {ids.STORE_SESSION: SID, ids.STORE_CLIENT: client, inspector.STORE_LIVE: client,
            boundary.STORE_LIVE: client, health.STORE_LIVE: client, inspector.INPUT_ROW: 2,
            inspector.RADIO_MODE: "sample", boundary.DROPDOWN_X: 2, boundary.DROPDOWN_Y: 3}
    tabs = {"inspector": inspector.TAB, "boundary": boundary.TAB, "health": health.TAB}
    before = trainer(store).iteration
    counts = {"refused": 0, "accepted": 0}
    for name, (_key, spec) in sorted(specs.items()):
        first = spec["inputs"][0]
        changed = [f"{first['id']}.{first['property']}"]
        for dep in spec["inputs"] + spec["state"]:
            for value in ABSURD:
                values = {**good, ids.TABS_PANELS: tabs[name.split("_")[0]], dep["id"]: value}
                key = VALIDATED.get(dep["id"])
                refused = False
                if key is not None:
                    try:
                        validate({key: value})
                    except ControlError:
                        refused = True
                n_logged = len([r for r in caplog.records if r.getMessage().startswith(
                    "refused")])
                r = http.post("/_dash-update-component", data=json.dumps(
                    callback_body(specs, name, values, changed), allow_nan=True),
                    content_type="application/json")
                where = f"{name} {dep['id']}={str(value)[:20]!r}"
                assert r.status_code in (200, 204), (where, r.status_code)
                logged = len([r for r in caplog.records if r.getMessage().startswith(
                    "refused")])
                assert logged == n_logged + refused, where
                counts["refused" if refused else "accepted"] += 1
                if refused:
                    response = r.get_json()["response"]
                    assert list(response) == [ids.DIV_STATUS], where
                    assert "Not applied" in json.dumps(response), where
    assert counts["refused"] > 150 and counts["accepted"] > 50, counts
    assert trainer(store).iteration == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ----------------------------------------------------------------------- Redis store
def test_the_panels_read_a_run_kept_in_redis(redis_server):
    """With sessions in Redis (any worker serves any tab) the panels read the saved run."""
    from dashboard.sessions import RedisStore

    store = RedisStore(redis_server, prefix="test-inside:")
    with store.session(SID, lambda: Trainer(Config.document())) as s:
        s.trainer.step(500)
        client = {"run": s.meta["run"], "n": 10, "it": 500}
    reference = Trainer(Config.document())
    reference.step(500)
    r = inspector.update(store, ids.TABS_PANELS, client, inspector.TAB, SID, 3, "sample", {},
                         {})
    dscores = next(e["value"] for e in anatomy(reference, rows=2)["entries"]
                   if e["name"] == "dscores")
    assert r.tables["dscores"]["v"] == [[num(v) for v in dscores[0]]]
    b = boundary.update(store, ids.TABS_PANELS, client, boundary.TAB, SID, None, None, 3, {})
    assert (b.value_x, b.value_y) == (2, 3)
    h = health.update(store, ids.TABS_PANELS, client, health.TAB, SID, {})
    assert len(h.loss["data"][0]["x"]) == 10
    block, _status = inspector.check_gradients(store, SID)
    assert "At iteration 500" in dumps(block)


def test_a_confusion_cell_of_csv_classes_with_markup_and_long_names_is_found():
    """The click carries the matrix's own labels (escaped, cut to 24 characters), not the
    raw class names: those must still find the class."""
    from dashboard.figures import axis_labels, confusion_figure
    from mlpcore.csvdata import csv_dataset

    long = "a class name well over twenty-four characters"
    rows = "".join(f"{i % 7},{(i * 3) % 5},{'x & <y>' if i % 2 else long}\n" for i in range(40))
    data = csv_dataset("f1,f2,kind\n" + rows, split="fraction", train_fraction=0.5)
    store = MemoryStore()
    with store.session(SID, lambda: Trainer(Config.document(), data)) as s:
        s.trainer.step(10)
        t = s.trainer
    labels = confusion_figure(t.confusion("test"), data.class_names)["data"][0]["x"]
    assert labels == axis_labels(data.class_names) and "x &amp; &lt;y&gt;" in labels
    pred = t.predict(data.X_train)
    k = int(data.y_train[0])
    j = int(pred[0])
    click = {"points": [{"x": labels[j], "y": labels[k]}]}
    row, tab, pick, _status = inspector.pick_from_confusion(store, click, SID, 1)
    assert tab == inspector.TAB and pick["true"] == k and pick["pred"] == j and pick["found"]
