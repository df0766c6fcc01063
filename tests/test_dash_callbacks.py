"""The callbacks called as plain functions, against a simulated page.

`Page` does what the browser does with each response: applies Patches and whole figures,
keeps the client record, or drops the response entirely (as Dash does when a callback fires
again while in flight). Expected numbers come from mlpcore run directly.
"""

from __future__ import annotations

import json
import threading
import uuid

import numpy as np
import plotly.io.json as pio_json
import pytest
from conftest import apply_patch
from dash import Patch, no_update
from dash.exceptions import PreventUpdate

from dashboard import callbacks as cb
from dashboard.figures import CURVE_DIGITS, rounded
from dashboard.sessions import MemoryStore
from dashboard.validation import (
    DEFAULTS,
    DOCUMENT,
    LR_VALUES,
    REG_VALUES,
    SPEEDS,
    ControlError,
    validate,
)
from mlpcore import Config, Trainer

TOP_SPEED = len(SPEEDS) - 1


def text_of(component) -> str:
    """All the text inside a Dash component tree (or list of them)."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


class Page:
    """A browser tab, as far as the callbacks can tell."""

    def __init__(self, store, **controls):
        self.store = store
        self.session = uuid.uuid4().hex
        self.client = {"run": None, "n": 0}
        self.figures = [None, None, None]
        self.status, self.state, self.iteration = None, "ready", 0
        self.max_intervals, self.label = 0, "Train"
        self.values = {**DEFAULTS, **controls}

    def run_controls(self):
        return {key: self.values[key] for key in cb.RUN_KEYS}

    def advance(self, trigger="tick", drop=False, budget=cb.TIME_BOX):
        v = self.values
        result = cb.advance(self.store, trigger, self.session, self.client, v["speed"], v["lr"],
                            v["reg"], self.run_controls(), v["curves"], budget=budget)
        if not drop:
            self.apply(result)
        return result

    def apply(self, r):
        for i, value in enumerate((r.curves, r.confusion, r.weights)):
            if isinstance(value, Patch):
                self.figures[i] = apply_patch(self.figures[i], value)
            elif value is not no_update:
                self.figures[i] = json.loads(json.dumps(value))
        for name in ("status", "state", "iteration", "client", "max_intervals"):
            value = getattr(r, name)
            if value is not no_update:
                setattr(self, name, value)
        if r.train_label is not no_update:
            self.label = r.train_label

    def toggle(self):
        pulse, status = cb.toggle_train(self.store, self.session, self.run_controls(),
                                        self.values["lr"], self.values["reg"])
        assert status is no_update, text_of(status)
        return self.advance("pulse")

    def restart(self, trigger):
        r = cb.restart(self.store, trigger, self.session, self.run_controls(),
                       self.values["lr"], self.values["reg"])
        assert r.status is no_update, text_of(r.status)
        if trigger == "document":
            keys = (*cb.RUN_KEYS, "lr", "reg")
            self.values.update(dict(zip(keys, r.controls, strict=True)))
        return self.advance("pulse")

    def run_to_end(self, drop_every=0, limit=500):
        for i in range(limit):
            if self.state != "running":
                return
            self.advance("tick", drop=bool(drop_every) and i % drop_every == 1)
        raise AssertionError(f"still {self.state} after {limit} ticks")

    def curve(self, trace=0):
        data = self.figures[0]["data"][trace]
        return data["x"], data["y"]

    def trainer(self):
        with self.store.session(self.session, lambda: None) as s:
            return s.trainer, dict(s.meta)


def core_run(config, iterations):
    trainer = Trainer(config)
    trainer.step(iterations)
    return trainer


def expected_curve(trainer, key="loss"):
    h = trainer.history.since(0)
    return [int(s) for s in h["step"]], [rounded(v, CURVE_DIGITS) for v in h[key]]


@pytest.fixture
def store():
    return MemoryStore()


# ---------------------------------------------------------------------------- the tick
def test_load_sends_whole_figures_once(store):
    page = Page(store)
    r = page.advance(None)
    assert all(isinstance(f, dict) for f in (r.curves, r.confusion, r.weights))
    trainer, meta = page.trainer()
    assert r.client == {"run": meta["run"], "n": 0, "it": 0}
    assert (r.state, r.iteration, r.max_intervals, r.train_label) == ("ready", 0, 0, "Train")
    assert "iteration 0 / 3000" in text_of(r.status)
    assert r.weights["data"][0]["y"] == [*trainer.dataset.feature_names, "b1"]
    assert r.confusion["data"][0]["x"] == list(trainer.dataset.class_names)
    assert page.advance("tick").curves is no_update  # nothing new: nothing sent


def test_tick_advances_the_stored_trainer_and_returns_only_patches(store):
    page = Page(store)
    page.advance(None)
    r = page.toggle()
    for result in (r, page.advance("tick")):
        assert all(isinstance(x, Patch) for x in (result.curves, result.confusion, result.weights))
    trainer, meta = page.trainer()
    assert trainer.iteration == 2 * SPEEDS[DEFAULTS["speed"]] == 100
    assert page.client == {"run": meta["run"], "n": 2, "it": 100}
    assert (page.state, page.max_intervals, page.label) == ("running", -1, "Pause")
    assert page.curve() == expected_curve(core_run(Config.document(), 100))


def test_each_response_carries_every_point_since_the_clients_count(store):
    page = Page(store, speed=SPEEDS.index(50))
    page.advance(None)
    page.toggle()
    for _ in range(3):
        page.advance("tick", drop=True)  # three responses the browser never applied
    assert page.client["n"] == 1
    r = page.advance("tick")
    ops = r.curves.to_plotly_json()["operations"]
    x_ext = [op["params"]["value"] for op in ops if op["location"] == ["data", 0, "x"]]
    assert x_ext == [[100, 150, 200, 250]]  # everything since the page's one point
    assert page.curve() == expected_curve(core_run(Config.document(), 250))


@pytest.mark.parametrize("drop_every", [0, 2, 3])
def test_document_run_through_the_callbacks(store, drop_every):
    page = Page(store, speed=TOP_SPEED, hidden=9, seed=4)
    page.advance(None)
    page.restart("document")
    assert page.values["hidden"] == 6 and page.values["seed"] == 1
    page.toggle()
    page.run_to_end(drop_every=drop_every)
    reference = core_run(Config.document(), 3000)
    assert (page.state, page.iteration, page.max_intervals) == ("maxit", 3000, 0)
    for trace, key in enumerate(("loss", "test_acc", "train_acc", "test_loss")):
        assert page.curve(trace) == expected_curve(reference, key)
    assert len(page.curve()[0]) == 60  # one point per display step, none doubled
    z = page.figures[1]["data"][0]["z"]
    assert z == reference.confusion("test").tolist() == [[25, 0, 0], [0, 24, 1], [0, 0, 25]]
    status = text_of(page.status)
    assert "3000 / 3000" in status and "test accuracy 0.9867" in status
    assert f"{reference.accuracy('test'):.4f}" == "0.9867"
    weights = page.figures[2]["data"]
    np.testing.assert_allclose(weights[0]["z"][:4], reference.params["W1"], rtol=1e-2, atol=1e-6)
    np.testing.assert_allclose(weights[1]["z"][-1], reference.params["b2"][0], rtol=1e-2)


def test_tick_response_is_small(store):
    page = Page(store)  # the document's configuration at the default speed
    page.advance(None)
    page.toggle()
    r = page.advance("tick")
    size = len(pio_json.to_json_plotly([r.curves, r.confusion, r.weights]))
    assert size <= 2048, size


def test_step_runs_to_the_next_display_step_and_pauses(store):
    page = Page(store, speed=SPEEDS.index(1))
    page.advance(None)
    page.advance("step")
    assert (page.iteration, page.state, page.client["n"], page.max_intervals) == (
        50, "paused", 1, 0)
    page.toggle()
    page.advance("tick")
    page.advance("tick")
    assert page.iteration == 53 and page.state == "running"
    page.advance("step")
    assert (page.iteration, page.state, page.client["n"]) == (100, "paused", 2)
    assert page.curve() == expected_curve(core_run(Config.document(), 100))


def test_pause_stops_training(store):
    page = Page(store)
    page.advance(None)
    page.toggle()
    r = page.toggle()  # Pause
    assert (r.state, r.max_intervals, r.train_label) == ("paused", 0, "Train")
    assert "Paused" in text_of(r.status)
    before = page.iteration
    r = page.advance("tick")  # a tick already on its way when Pause was pressed
    assert page.iteration == before == 50 and r.curves is no_update


def test_lr_and_reg_apply_from_the_next_update_without_reset(store):
    page = Page(store)
    page.advance(None)
    page.toggle()
    page.advance("tick")
    run = page.client["run"]
    page.values.update(lr=LR_VALUES.index(0.1), reg=REG_VALUES.index(0.0))
    page.advance("tick")
    trainer, meta = page.trainer()
    assert meta["run"] == run and trainer.iteration == 150  # same run, no reset
    assert "learning rate 0.01 → 0.1" in meta["note"] and "regularisation 0.001 → 0" in meta["note"]
    reference = core_run(Config.document(), 100)
    reference.set_hyper(lr=0.1, reg=0.0)
    reference.step(50)
    for key, value in reference.params.items():
        np.testing.assert_array_equal(trainer.params[key], value)


def test_run_settings_start_a_new_run_and_say_so(store):
    page = Page(store)
    page.advance(None)
    page.toggle()
    old_run = page.client["run"]
    page.values["hidden"] = 7
    r = page.restart("controls")
    trainer, meta = page.trainer()
    assert meta["run"] != old_run and trainer.iteration == 0
    assert trainer.config.hidden == (7,)
    assert "hidden units 6 → 7" in meta["note"] and "New run" in text_of(r.status)
    assert isinstance(r.weights, dict) and len(r.weights["data"][0]["x"]) == 7
    assert r.state == "ready" and page.curve() == ([], [])
    with pytest.raises(PreventUpdate):  # the same settings again: nothing to do
        cb.restart(store, "controls", page.session, page.run_controls(), page.values["lr"],
                   page.values["reg"])
    page.values.update(layers=2, maxit=500, activation="tanh")
    page.restart("controls")
    trainer, meta = page.trainer()
    assert trainer.config.hidden == (7, 7) and trainer.config.maxit == 500
    assert trainer.config.activation == "tanh"
    assert len(page.figures[2]["data"]) == 3  # one heatmap per weight matrix


def test_reset_starts_over_with_the_current_settings(store):
    page = Page(store, seed=3)
    page.advance(None)
    page.toggle()
    page.advance("tick")
    page.restart("reset")
    trainer, meta = page.trainer()
    assert trainer.iteration == 0 and meta["paused"] and trainer.config.seed == 3
    assert page.curve() == ([], []) and page.client["n"] == 0 and page.state == "ready"


def test_document_settings_restore_the_documents_run(store):
    assert cb.config_from(validate(DOCUMENT | {"speed": 0})) == Config.document()
    page = Page(store, hidden=12, layers=3, lr=0, reg=0, maxit=100, seed=9, display=7,
                activation="sigmoid")
    page.advance(None)
    r = cb.restart(store, "document", page.session, page.run_controls(), 0, 0)
    keys = (*cb.RUN_KEYS, "lr", "reg")
    assert dict(zip(keys, r.controls, strict=True)) == {k: DOCUMENT[k] for k in keys}
    trainer, meta = page.trainer()
    assert trainer.config == Config.document() and meta["paused"]


def test_a_finished_run_stays_finished(store):
    page = Page(store, maxit=100, speed=TOP_SPEED)
    page.advance(None)
    page.toggle()
    page.run_to_end()
    assert page.state == "maxit" and page.iteration == 100
    r = page.toggle()
    assert r.state == "maxit" and r.max_intervals == 0
    assert "finished" in text_of(r.status).lower()


def test_diverged_run_shows_the_cores_message(store):
    page = Page(store, lr=LR_VALUES.index(10.0), hidden=16, seed=2024, speed=TOP_SPEED)
    page.advance(None)
    page.toggle()
    page.run_to_end()
    trainer, _meta = page.trainer()
    assert page.state == "diverged" == trainer.status
    assert trainer.message and trainer.message in text_of(page.status)


def test_unknown_session_gets_a_fresh_run_and_a_note(store):
    page = Page(store)
    page.client = {"run": uuid.uuid4().hex, "n": 12, "it": 600}  # from a server that forgot
    r = page.advance("tick")
    assert isinstance(r.curves, dict) and page.client["n"] == 0 and page.state == "ready"
    assert "not found on the server" in text_of(r.status)


def test_page_claiming_more_points_than_the_run_is_resynced(store):
    page = Page(store)
    page.advance(None)
    page.client = {**page.client, "n": 5}
    r = page.advance("tick")
    assert isinstance(r.curves, dict) and r.client["n"] == 0


def test_busy_session_sends_no_update(store):
    store.lock_timeout = 0.05
    page = Page(store)
    page.advance(None)
    entered, release = threading.Event(), threading.Event()

    def hold():
        with store.session(page.session, lambda: None):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    try:
        with pytest.raises(PreventUpdate):
            page.advance("tick")
        # a click's pulse that finds the run busy says so and keeps the page ticking, so
        # the next tick shows the run's true state (no tick would come otherwise)
        r = page.advance("pulse", drop=True)
        assert "busy" in text_of(r.status) and r.max_intervals == -1
    finally:
        release.set()
        t.join(5)


def test_a_tick_makes_no_run_from_controls_that_cannot_be_used(store):
    page = Page(store, hidden=0)
    r = page.advance(None, drop=True)
    assert "Not applied" in text_of(r.status) and "Hidden units" in text_of(r.status)
    with store.view(page.session) as s:
        assert s is None  # nothing was stored


def test_two_sessions_on_one_store_do_not_mix(store):
    a, b = Page(store, speed=SPEEDS.index(200)), Page(store, hidden=8, seed=2,
                                                      speed=SPEEDS.index(500))
    for page in (a, b):
        page.advance(None)
        page.toggle()
    while a.state == "running" or b.state == "running":
        for page in (a, b):
            if page.state == "running":
                page.advance("tick")
    assert a.curve() == expected_curve(core_run(Config.document(), 3000))
    config_b = Config.document().replace(hidden=(8,), seed=2)
    assert b.curve() == expected_curve(core_run(config_b, 3000))


def test_time_box_runs_some_and_stops(store):
    trainer = Trainer(Config.document().replace(maxit=20000))
    ran = cb.run_for(trainer, 0, budget=0.02)
    assert 0 < ran == trainer.iteration < 20000


# ----------------------------------------------------------------------- forged inputs
FORGED = [
    ("lr", "0.01"), ("lr", 1e9), ("lr", float("nan")), ("lr", -1), ("lr", True), ("lr", 2.5),
    ("reg", None), ("reg", len(REG_VALUES)), ("speed", 99), ("speed", [1]),
    ("hidden", 0), ("hidden", 65), ("hidden", 6.5), ("hidden", "6"), ("layers", 5),
    ("maxit", 150), ("maxit", 10**7), ("seed", -1), ("seed", float("inf")), ("display", 0),
    ("activation", "softplus"), ("activation", None), ("curves", ["bogus"]),
    ("session", "../../etc/passwd"), ("session", None), ("session", 12),
    ("client", {"run": "zz"}), ("client", {"run": None, "n": -1}), ("client", "abc"),
    ("client", {"run": None, "n": 0, "extra": 1}),
]


@pytest.mark.parametrize(("key", "value"), FORGED)
def test_forged_inputs_give_an_error_and_leave_the_run_alone(store, key, value):
    page = Page(store)
    page.advance(None)
    page.toggle()
    before_trainer, before_meta = page.trainer()
    before = (before_trainer.iteration, before_meta)
    if key == "session":
        page.session = value
    elif key == "client":
        page.client = value
    else:
        page.values[key] = value
    r = page.advance("tick", drop=True)
    if key in cb.CONTROL_KEYS:
        # the tick uses the run controls only to make a run that does not exist: it goes on
        # (as when the user empties the Seed box while the run trains), and nothing is logged
        assert "Not applied" not in text_of(r.status) and r.state == "running"
        assert r.iteration > before[0]
        before_trainer, before_meta = page.trainer()  # Train/Pause and Reset refuse it: no change
        before = (before_trainer.iteration, before_meta)
    else:
        assert "Not applied" in text_of(r.status)
        assert [x for x in r if x is not no_update] == [r.status]
    if key in ("session", "client", "speed", "curves"):
        return  # toggle and restart do not take these
    pulse, status = cb.toggle_train(store, page.session, page.run_controls(),
                                    page.values["lr"], page.values["reg"])
    assert pulse is no_update and "Not applied" in text_of(status)
    r = cb.restart(store, "reset", page.session, page.run_controls(), page.values["lr"],
                   page.values["reg"])
    assert r.pulse is no_update and "Not applied" in text_of(r.status)
    after_trainer, after_meta = page.trainer()
    assert (after_trainer.iteration, after_meta) == before


def test_validation_scales_and_messages():
    assert LR_VALUES[0] == 1e-4 and LR_VALUES[-1] == 10.0 and 0.01 in LR_VALUES
    assert REG_VALUES[0] == 0.0 and REG_VALUES[1] == 1e-6 and REG_VALUES[-1] == 1.0
    assert all(a < b for a, b in zip(LR_VALUES, LR_VALUES[1:], strict=False))
    s = validate(DOCUMENT)
    assert (s.lr, s.reg, s.hidden, s.maxit) == (0.01, 0.001, 6, 3000)
    assert validate({"speed": TOP_SPEED}).speed == 0 and validate({"hidden": 6.0}).hidden == 6
    with pytest.raises(ControlError, match="Hidden units must be from 1 to 64; got 65"):
        validate({"hidden": 65})
    with pytest.raises(ControlError, match="Unknown control"):
        validate({"evil": 1})


def test_value_readouts():
    assert cb.show_values(6, DOCUMENT["lr"], DOCUMENT["reg"], 3000, TOP_SPEED, 1) == (
        "6", "0.01", "0.001", "3000", "as fast as possible", "1")
    assert cb.show_values(6, 0, 1, 3000, 0, 1)[1:3] == ("0.0001", "1e-6")
    assert cb.show_values(6, 0, 0, 3000, 0, 1)[2] == "0"
    assert cb.show_values("x", 99, None, 3000, 0, 9) == ("?", "?", "?", "3000", "1 / update", "?")
    patch = cb.show_curves(["test_loss"])
    assert isinstance(patch, Patch)
    with pytest.raises(PreventUpdate):
        cb.show_curves(["nope"])
