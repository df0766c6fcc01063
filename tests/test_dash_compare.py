"""The Compare tab without a browser: pins (store, figure, Patch, the tick's whole-figure path)
and the sweep (plan, the background callback's body, the heatmap, a cell click)."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import apply_patch
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard import callbacks as cb
from dashboard.figures import CURVE_TRACES, curves_figure, pin_traces, sweep_figure
from dashboard.panels import compare
from dashboard.patches import pins_patch
from dashboard.pins import PIN_POINTS, make_pin, pins_from_json, pins_to_json, saved_pins
from dashboard.sessions import MemoryStore, RedisStore
from dashboard.validation import (
    DEFAULTS,
    LR_VALUES,
    REG_VALUES,
    ControlError,
    check_sweep_plan,
    check_sweep_record,
)
from mlpcore import Config, Trainer
from mlpcore.sweep import dataset_to_spec, sweep

SLOTS = 5
CONTROLS = {key: DEFAULTS[key] for key in cb.RUN_KEYS}


def _tick(store, sid, client=None, trigger="pulse", lr=DEFAULTS["lr"]):
    return cb.advance(store, trigger, sid, client or {"run": None, "n": 0}, DEFAULTS["speed"],
                      lr, DEFAULTS["reg"], CONTROLS)


def _session(store, iterations=100):
    """A session whose run has trained `iterations` (the page's record returned too)."""
    sid = uuid.uuid4().hex
    r = _tick(store, sid)
    with store.session(sid, lambda: None) as s:
        s.trainer.step(iterations)
    return sid, r.client


# -------------------------------------------------------------------------------- pins
def test_a_pin_keeps_the_curves_thinned_and_round_trips_as_checked_json():
    trainer = Trainer(Config.document().replace(display=1, maxit=2000))
    trainer.step(1000)
    pin = make_pin(trainer, "paused", 3)
    assert pin["label"] == "pin 3: lr 0.01, reg 0.001, max 2000"
    assert len(pin["steps"]) == PIN_POINTS and pin["steps"][0] == 1 and pin["steps"][-1] == 1000
    assert pin["iterations"] == 1000 and pin["state"] == "paused" and pin["visible"]
    assert pin["loss"] == pytest.approx(trainer.history.loss[-1], rel=1e-4)
    assert pins_from_json(pins_to_json([pin])) == [pin]
    tanh = Trainer(Config.document().replace(activation="tanh", hidden=(8, 8), seed=4))
    tanh.step(50)
    assert make_pin(tanh, "paused", 1)["label"] == "pin 1: lr 0.01, reg 0.001, hidden 8×2, " \
                                                    "tanh, seed 4"


@pytest.mark.parametrize("damage", [
    lambda p: p.update(n="1"), lambda p: p.update(state="exploded"),
    lambda p: p.update(steps=p["steps"] * 2), lambda p: p["loss_curve"].append(1.0),
    lambda p: p.update(extra=1), lambda p: p["settings"].pop("lr"),
    lambda p: p.update(label="x" * 500), lambda p: p["acc_curve"].__setitem__(0, "1")])
def test_damaged_stored_pins_are_dropped_not_trusted(damage):
    trainer = Trainer(Config.document())
    trainer.step(100)
    pin = make_pin(trainer, "paused", 1)
    damage(pin)
    assert pins_from_json(pins_to_json([pin])) == []
    assert pins_from_json("not json") == pins_from_json(None) == pins_from_json("{}") == []
    assert pins_from_json("[" * 10_000 + "]" * 10_000) == []


def test_pin_slots_follow_the_live_traces_and_the_patch_assigns_every_slot():
    trainer = Trainer(Config.document())
    trainer.step(200)
    pins = [make_pin(trainer, "paused", 1), make_pin(trainer, "paused", 2)]
    pins[1]["visible"] = False
    plain = curves_figure(trainer.history.since(0))
    assert len(plain["data"]) == len(CURVE_TRACES)  # no pins: the figure as before
    fig = curves_figure(trainer.history.since(0), pins=pins, pin_slots=SLOTS)
    assert len(fig["data"]) == len(CURVE_TRACES) + 2 * SLOTS
    names = [t["name"] for t in fig["data"][len(CURVE_TRACES):]]
    assert names[:4] == ["pin 1: lr 0.01, reg 0.001", "pin 1: lr 0.01, reg 0.001 · accuracy",
                         "pin 2: lr 0.01, reg 0.001", "pin 2: lr 0.01, reg 0.001 · accuracy"]
    assert [t["visible"] for t in fig["data"][4:]] == [True, True] + [False] * 8
    assert all(t["opacity"] < 1 for t in fig["data"][4:8])
    # a page without slots gets them appended; a page with stale slots gets them replaced
    for page in (plain, curves_figure(trainer.history.since(0), pins=pins[:1], pin_slots=SLOTS)):
        patched = apply_patch(page, pins_patch(pins, SLOTS))
        assert patched["data"][4:] == pin_traces(pins, SLOTS)
        assert patched["data"][:4] == plain["data"]  # the live traces are never touched


def test_a_pins_label_is_shown_as_text_not_markup():
    """A pin of a run on an uploaded CSV names the file: Plotly must show it literally."""
    from mlpcore.csvdata import csv_dataset

    rows = "".join(f"{i % 7},{(i * 3) % 5},{'a' if i % 2 else 'b'}\n" for i in range(40))
    data = csv_dataset("f1,f2,kind\n" + rows, name="<b>big</b>&.csv", split="fraction",
                       train_fraction=0.5)
    trainer = Trainer(Config.document(), data)
    trainer.step(100)
    pin = make_pin(trainer, "paused", 1)
    assert "<b>big" in pin["label"]  # the pin keeps the words; the figure escapes them
    loss, acc = pin_traces([pin], 1)
    for name in (loss["name"], acc["name"]):
        assert "<" not in name and ">" not in name and "&lt;b&gt;big&lt;/b&gt;&amp;" in name


def test_pin_show_hide_remove_and_the_cap():
    store = MemoryStore()
    sid, _client = _session(store)
    rows, patch, note = compare.pins_action(store, "pin", sid, "compare", max_pins=2)
    assert note == "Pinned as pin 1." and len(saved_pins(store, sid)) == 1
    fig = apply_patch(curves_figure({}), patch)
    assert fig["data"][4]["name"] == "pin 1: lr 0.01, reg 0.001" and len(fig["data"]) == 8
    compare.pins_action(store, "pin", sid, "compare", max_pins=2)
    with pytest.raises(ControlError, match="At most 2 pinned runs"):
        compare.pins_action(store, "pin", sid, "compare", max_pins=2)
    _rows, patch, note = compare.pins_action(store, ("show", 2), sid, "compare", max_pins=2)
    assert note == "Pin 2 hidden." and apply_patch(fig, patch)["data"][6]["visible"] is False
    _rows, patch, note = compare.pins_action(store, ("remove", 1), sid, "compare", max_pins=2)
    fig = apply_patch(fig, patch)
    assert note == "Pin 1 removed." and fig["data"][4]["name"] == "pin 2: lr 0.01, reg 0.001"
    assert fig["data"][6]["x"] == [] and [p["n"] for p in saved_pins(store, sid)] == [2]
    with pytest.raises(ControlError, match="no pin 1"):
        compare.pins_action(store, ("remove", 1), sid, "compare", max_pins=2)
    for forged in ("1", None, -3, 10**9, 2.5, [2]):
        with pytest.raises(ControlError):
            compare.pins_action(store, ("show", forged), sid, "compare", max_pins=2)
    with pytest.raises(PreventUpdate):  # the tab is not open: nothing happens
        compare.pins_action(store, "pin", sid, "guide")


def test_nothing_to_pin_before_training_and_in_an_unknown_session():
    store = MemoryStore()
    sid = uuid.uuid4().hex
    _tick(store, sid)
    with pytest.raises(ControlError, match="train the run first"):
        compare.pins_action(store, "pin", sid, "compare")
    run = compare.guarded(lambda *a: compare.pins_action(store, *a), "pins", 3, 2)
    out = run("pin", uuid.uuid4().hex, "compare")
    assert out[:2] == (no_update, no_update) and "train the run first" in out[2]
    assert "session id" in run("pin", "../etc", "compare")[2]


def test_pins_survive_a_new_run_in_the_ticks_whole_figure():
    """Reset and new settings make a new run; its first (whole) curves figure carries the
    pins after the live traces, so the tick's Patch indices stay those of the live ones."""
    store = MemoryStore()
    sid, client = _session(store)
    compare.pins_action(store, "pin", sid, "compare")
    same = _tick(store, sid, client, trigger="tick")  # the same run: a Patch, no pins read
    assert not isinstance(same.curves, dict)
    cb.restart(store, "reset", sid, CONTROLS, DEFAULTS["lr"], DEFAULTS["reg"])
    fresh = _tick(store, sid, client)
    data = fresh.curves["data"]
    assert [t["x"] for t in data[:4]] == [[]] * 4  # the new run has no points yet
    assert data[4]["name"] == "pin 1: lr 0.01, reg 0.001" and data[4]["x"] == [50, 100]
    assert len(data) == 4 + 2 * cb.LIMITS.max_pins


def test_redis_store_keeps_pins_beside_the_run(redis_server):
    store = RedisStore(redis_server, prefix=f"test-pins-{uuid.uuid4().hex[:6]}:")
    sid, client = _session(store)
    compare.pins_action(store, "pin", sid, "compare")
    assert [p["n"] for p in saved_pins(store, sid)] == [1]
    with store.session(sid, lambda: None) as s:  # the tick's load never carries them
        assert "pins" not in s.meta
    cb.restart(store, "reset", sid, CONTROLS, DEFAULTS["lr"], DEFAULTS["reg"])
    assert _tick(store, sid, client).curves["data"][4]["name"] == "pin 1: lr 0.01, reg 0.001"
    assert store.client.pttl(f"{store.prefix}session:{sid}") > 0  # expires with the run


# ------------------------------------------------------------------------------- sweep
def _plan(store, sid, lrs=(0.1, 1.0), regs=(0.0, 0.001), iterations=300):
    plan, note = compare.plan_sweep(store, sid, [LR_VALUES.index(v) for v in lrs],
                                    [REG_VALUES.index(v) for v in regs], iterations)
    return plan, note


def test_the_sweep_runs_the_runs_settings_and_data_and_gives_the_cores_numbers():
    store = MemoryStore()
    sid, _client = _session(store)
    with store.session(sid, lambda: None) as s:  # the run's settings: hidden 9, seed 7
        s.new_run(Trainer(Config.document().replace(hidden=(9,), seed=7)))
    plan, note = _plan(store, sid)
    assert note.startswith("Sweeping 4 cells of 300 iterations") and "hidden 9" in note
    progress = []  # as the page gets them (the manager serialises each at once)
    record, done = compare.run_sweep(plan, lambda p: progress.append(json.loads(json.dumps(p))),
                                     compare.run_here)
    assert done.startswith("Done: 4 cells") and record["state"] == "complete"
    assert [p[:3] for p in progress] == [[k, 4, f"{k} of 4 cells"] for k in range(5)]
    assert progress[1][3]["acc"][0][1] is None  # the heatmap fills cell by cell
    expected = sweep(Config.document().replace(hidden=(9,), seed=7), [0.1, 1.0], [0.0, 0.001],
                     300)
    assert record["acc"] == expected.grid("test_accuracy")
    assert record["loss"] == expected.grid("loss")
    assert record["status"] == expected.grid("status")
    assert check_sweep_record(record) == record
    assert json.loads(json.dumps(record)) == record  # what the page stores


def test_sweep_inputs_are_checked():
    store = MemoryStore()
    sid, _client = _session(store)
    for lrs, regs, iterations, words in [
            ([], [0], 100, "from 1 to 8"), ([0] * 2, [0], 100, "all be different"),
            (list(range(9)), [0], 100, "from 1 to 8"), ([0], [0], 150, "multiple of 100"),
            ([0], [0], 10**6, "from 100 to 20000"), ([999], [0], 100, "Learning rate"),
            ([0], ["0"], 100, "Regularisation"), ([0], [0], None, "Sweep iterations")]:
        with pytest.raises(ControlError, match=words):
            compare.plan_sweep(store, sid, lrs, regs, iterations)
    plan, _note = _plan(store, sid)
    for forged in ({**plan, "config": {**plan["config"], "hidden": [4096]}},
                   {**plan, "config": "x"}, {**plan, "id": "../x"}, {**plan, "extra": 1},
                   {**plan, "lrs": [1, 1]}, {**plan, "data": [1, 2]}, [plan], "x"):
        with pytest.raises(ControlError):
            check_sweep_plan(forged)
    assert check_sweep_plan(None) is None and check_sweep_plan({}) is None  # none asked for
    # a forged data spec or a sweep over the core's work cap: refused in words, not run
    bad = {**plan, "data": {"kind": "arrays", "name": "x"}}
    out = compare.run_sweep(bad, pytest.fail, compare.run_here)
    assert out[0] is no_update and out[1].startswith("Not run:")


def test_heatmap_cancel_note_and_cell_click():
    store = MemoryStore()
    sid, _client = _session(store)
    plan, _note = _plan(store, sid)
    live = compare.new_record(plan)
    empty = compare.show_sweep(live, None, "test_accuracy")
    assert empty["data"][0]["text"] == [["", ""], ["", ""]]
    assert "(0 of 4 cells)" in empty["layout"]["title"]["text"]
    assert compare.cancelled_note(plan, None) == "Cancelled before the first cell finished."
    assert compare.cancelled_note(plan, live).startswith("Cancelled after 0 of 4 cells")
    record, _done = compare.run_sweep(plan, lambda _p: None, compare.run_here)
    fig = compare.show_sweep(live, record, "test_accuracy")  # the newest record wins
    trace = fig["data"][0]
    assert trace["x"] == ["0.1", "1"] and trace["y"] == ["0", "0.001"]
    assert sum("★" in t for row in trace["text"] for t in row) == 1
    assert compare.show_sweep(None, record, "loss")["data"][0]["z"][0][0] == \
        pytest.approx(record["loss"][0][0], rel=1e-3)
    with pytest.raises(PreventUpdate):
        compare.cancelled_note(plan, record)  # finished: nothing was cancelled
    with pytest.raises(PreventUpdate):
        compare.cancelled_note({}, None)  # no sweep
    with pytest.raises(ControlError):
        compare.cancelled_note({"id": 1}, None)
    lr, reg, note = compare.load_cell({"points": [{"x": trace["x"][0], "y": trace["y"][1]}]})
    assert (LR_VALUES[lr], REG_VALUES[reg]) == (0.1, 0.001) and "no reset" in note
    lr, reg, _note = compare.load_cell({"points": [{"x": "0.0001", "y": "1.5e-6"}]})
    assert (LR_VALUES[lr], REG_VALUES[reg]) == (1e-4, 1.5e-6)
    for forged in ({"points": []}, {"points": [{"x": "0.123", "y": "0"}]}, "x",
                   {"points": [{"x": 1, "y": 0}]}, {"points": [{"x": "1"}]}):
        with pytest.raises(ControlError):
            compare.load_cell(forged)
    for forged in ({**record, "acc": [[1.0]]}, {**record, "state": "x"},
                   {**record, "loss": [["a", 1], [1, 1]]}, {**record, "lrs": [5, 2]}):
        with pytest.raises(ControlError):
            compare.show_sweep(forged, None, "loss")
    with pytest.raises(ControlError):
        compare.show_sweep(None, record, "accuracy!")
    assert sweep_figure(None, "loss", LR_VALUES, REG_VALUES)["data"] == []


def test_a_diverged_cell_says_so_and_is_never_the_best():
    store = MemoryStore()
    sid, _client = _session(store)
    plan, _note = _plan(store, sid, lrs=(0.01, 10.0), regs=(0.5,), iterations=200)
    record, _done = compare.run_sweep(plan, lambda _p: None, compare.run_here)
    assert record["status"][0][1] == "diverged" and record["loss"][0][1] is None
    text = compare.show_sweep(None, record, "test_accuracy")["data"][0]["text"]
    assert text[0][1] == "diverged" and "★" in text[0][0]


def test_the_sweep_plan_carries_the_runs_own_data():
    store = MemoryStore()
    sid, _client = _session(store)
    with store.session(sid, lambda: None) as s:
        from mlpcore import make_dataset
        data = make_dataset("spiral", seed=1, n_points=40, n_classes=3)
        s.new_run(Trainer(Config.document(), data))
    plan, _note = _plan(store, sid, lrs=(0.1,), regs=(0.001,), iterations=100)
    assert plan["data"] == dataset_to_spec(data)
    record, _done = compare.run_sweep(plan, lambda _p: None, compare.run_here)
    expected = sweep(Config.document(), [0.1], [0.001], 100, data)
    assert record["acc"] == expected.grid("test_accuracy")
