"""Callbacks: thin glue between the page, the session store and the Trainer.

The bodies are plain module-level functions (tests call them directly); `register_callbacks`
wires them to the page. Who writes what:

- `advance` is the tick, and the ONLY writer of the figures' data and of the page's record
  of the run (STORE_CLIENT = {"run", "n", "it"}). It runs on the Interval, on Step, and on a
  pulse from the other callbacks. It compares the page's record with the session:
  * same run: train (if running: `speed` iterations, or time-boxed at top speed; on Step: to
    the next display step), then send Patches: the curves extended by every history point
    since the page's count `n`, heatmap values replaced (on every other update while a run
    goes on: see heatmaps_due), status, the new record;
  * another run (first load, Reset, new settings, expired session): send whole figures once.
  A response the browser drops (Dash drops one when the same callback fires again while it
  is in flight) changes neither the figures nor the record, so the next response carries
  those points again: no point is lost, and none is sent twice because `n` only moves with
  the figures in one response. `running=` also stops the Interval while a tick is in flight.
- `toggle_train`, `restart` only change the session on the server and write a pulse (and,
  for Document settings, the controls); `show_values`, `show_curves` are cosmetic.

Every raw value goes through validation.validate first; nothing else trusts the page.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import NamedTuple

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from mlpcore import Config, Trainer

from . import ids
from .figures import confusion_figure, curves_figure, weights_figure
from .guards import refused
from .layout import error_children, format_number, format_speed, status_children
from .limits import LIMITS
from .patches import confusion_patch, curves_patch, curves_visibility_patch, weights_patch
from .sessions import SessionBusy, SessionTooLarge, StoreUnavailable
from .validation import DOCUMENT, ControlError, Settings, check_run, validate

TIME_BOX = 0.04  # seconds of training per update at "as fast as possible"
MAX_CHUNK = 5000  # iterations per Trainer.step call when time-boxed
HEATMAP_EVERY = 2  # while running, the heatmaps are redrawn on every 2nd update (heatmaps_due)

# Controls whose change starts a new run: (settings key, component id, words for the note).
RUN_CONTROLS = (
    ("hidden", ids.SLIDER_HIDDEN, "hidden units"),
    ("layers", ids.SLIDER_LAYERS, "hidden layers"),
    ("activation", ids.RADIO_ACTIVATION, "activation"),
    ("seed", ids.INPUT_SEED, "seed"),
    ("display", ids.INPUT_DISPLAY, "display interval"),
    ("maxit", ids.SLIDER_MAXIT, "max iterations"),
)
RUN_KEYS = tuple(key for key, _id, _words in RUN_CONTROLS)
LIVE_CONTROLS = (("lr", ids.SLIDER_LR), ("reg", ids.SLIDER_REG))  # applied without a reset
BUSY = "Not applied: this run is busy with another update (or was, on a server that stopped)."


class TickResult(NamedTuple):
    curves: object
    confusion: object
    weights: object
    status: object
    state: object
    iteration: object
    client: object
    max_intervals: object
    train_label: object


class RestartResult(NamedTuple):
    pulse: object
    controls: tuple  # values for the controls in RUN_CONTROLS + LIVE_CONTROLS order
    status: object


# ------------------------------------------------------------------------------ helpers
def config_from(settings: Settings) -> Config:
    """The Config for validated settings: the document's run with the controls applied.
    ControlError if the run would not fit the limits (validation.check_run)."""
    return check_run(Config.document().replace(
        seed=settings.seed, hidden=(settings.hidden,) * settings.layers,
        activation=settings.activation, lr=settings.lr, reg=settings.reg,
        maxit=settings.maxit, display=settings.display))


def pulse() -> str:
    return uuid.uuid4().hex


def ui_state(trainer: Trainer, paused: bool) -> str:
    if trainer.status in ("abstol", "maxit", "diverged"):
        return trainer.status
    if not paused:
        return "running"
    return "ready" if trainer.iteration == 0 else "paused"


def _last(history, key):
    n = len(history)
    return history.since(n - 1)[key][0] if n else None


def status_view(trainer: Trainer, meta: dict) -> tuple[list, str, int]:
    """(children, data-state, data-iteration) of the status element."""
    state = ui_state(trainer, meta.get("paused", True))
    message = trainer.message if trainer.done else ""  # what happened, what to try
    children = status_children(state, trainer.iteration, trainer.config.maxit,
                               _last(trainer.history, "loss"),
                               _last(trainer.history, "test_acc"),
                               message, meta.get("note", ""))
    return children, state, trainer.iteration


def run_for(trainer: Trainer, speed: int, budget: float = TIME_BOX) -> int:
    """Advance `speed` iterations, or (speed 0) as many as fit in `budget` seconds.
    Returns the number of iterations run. A fixed speed stops early, too, once the update
    has trained for LIMITS.tick_seconds (see step_within)."""
    if speed > 0:
        return step_within(trainer, speed)
    total, chunk = 0, 10
    deadline = time.perf_counter() + budget
    while not trainer.done:
        start = time.perf_counter()
        ran = trainer.step(chunk)
        total += ran
        now = time.perf_counter()
        if ran == 0 or now >= deadline:
            break
        per_iteration = (now - start) / ran
        chunk = max(1, min(MAX_CHUNK, int(0.9 * (deadline - now) / per_iteration)))
    return total


def step_within(trainer: Trainer, n: int, seconds: float | None = None,
                clock=time.perf_counter) -> int:
    """At most n iterations, stopping at an iteration boundary once `seconds` (default
    LIMITS.tick_seconds) have passed, so that one update never holds a worker longer,
    whatever speed or Step asks. The result equals trainer.step(n) when nothing is cut
    (step(a) then step(b) is step(a + b)). Returns the number of iterations run."""
    budget = LIMITS.tick_seconds if seconds is None else seconds
    deadline = clock() + budget
    total, chunk = 0, min(n, 4)
    while total < n and not trainer.done:
        start = clock()
        ran = trainer.step(min(chunk, n - total))
        total += ran
        now = clock()
        if ran == 0 or now >= deadline:
            break
        # the next call: what is left of the budget, but at most a quarter of it, so that
        # iterations turning k times slower overrun the deadline by k/4 of it at most
        seconds_each = max(now - start, 1e-9) / ran
        chunk = max(1, int(min(0.9 * (deadline - now), budget / 4) / seconds_each))
    return total


def _apply_live(trainer: Trainer, meta: dict, lr: float, reg: float) -> None:
    """lr and reg take effect from this update on (the run goes on); the note says so."""
    old_lr, old_reg = trainer.config.lr, trainer.config.reg
    if (lr, reg) == (old_lr, old_reg):
        return
    trainer.set_hyper(lr=lr, reg=reg)
    changes = [f"{name} {format_number(a)} → {format_number(b)}"
               for name, a, b in (("learning rate", old_lr, lr), ("regularisation", old_reg, reg))
               if a != b]
    meta["note"] = f"From iteration {trainer.iteration}: {', '.join(changes)} (no reset)."


def _finite(params: dict) -> bool:
    return all(math.isfinite(float(abs(W).max(initial=0.0))) for W in params.values())


def _fresh_run_note(settings: Settings) -> str:
    if settings.client_run is None:
        return ""
    return ("This tab's run was not found on the server (it expired, or the server restarted): "
            "a fresh run with the current settings has started.")


def _error(message: str, session=None, where: str | None = "tick input") -> TickResult:
    """Nothing changes but the status line, which says why; one log line (`where`: what was
    refused, None when the cause was logged already)."""
    if where:
        refused(where, message, session)
    return TickResult(no_update, no_update, no_update, error_children(message),
                      no_update, no_update, no_update, no_update, no_update)


# -------------------------------------------------------------------------------- tick
def advance(store, trigger: str | None, session, client, speed, lr, reg, controls: dict,
            curves=None, budget: float = TIME_BOX) -> TickResult:
    """The tick. `trigger`: "tick" (Interval), "step" (Step button), "pulse" (another
    callback changed the session) or None (page load). `controls`: raw RUN_CONTROLS values
    by key (used only to create a session that does not exist)."""
    try:
        settings = validate({"session": session, "client": client, "speed": speed, "lr": lr,
                             "reg": reg, "curves": curves, **controls})
        config = config_from(settings)
    except ControlError as exc:
        return _error(str(exc), session)
    except ValueError as exc:  # Config's own checks
        return _error(f"These settings cannot be used: {exc}", session)
    try:
        with store.session(settings.session, lambda: Trainer(config)) as s:
            if s.is_new:
                s.meta["note"] = _fresh_run_note(settings)
            return _advance_session(s, trigger, settings, budget)
    except SessionBusy:
        raise PreventUpdate from None  # the next tick retries; the page record is unchanged
    except SessionTooLarge as exc:  # not saved; stop ticking until Reset
        return _error(str(exc), session, "a run over the size limit")._replace(
            max_intervals=0, train_label="Train")
    except StoreUnavailable as exc:  # logged by the store; keep ticking: it goes on when back
        return _error(str(exc), where=None)._replace(max_intervals=-1)


def heatmaps_due(trigger, settings: Settings, iteration: int, paused: bool) -> bool:
    """Whether this update also redraws the confusion matrix and the weights.

    In the browser each heatmap figure costs about as much to redraw as the curves, so
    while a run goes on at a fixed speed they are redrawn on every HEATMAP_EVERY-th update
    only (when the iteration crosses a multiple of HEATMAP_EVERY x speed). The curves never
    skip a point, and every other update (Step, Train/Pause, the end of a run, top speed)
    carries the heatmaps, so what the page shows when the run stops is exact.
    """
    if trigger != "tick" or paused or not settings.speed:
        return True
    block = HEATMAP_EVERY * settings.speed
    return settings.client_iteration // block != iteration // block


def _advance_session(s, trigger, settings: Settings, budget: float) -> TickResult:
    trainer, meta = s.trainer, s.meta
    history = trainer.history
    same_run = settings.client_run == meta["run"] and settings.client_points <= len(history)
    ran = 0
    if same_run and not trainer.done:
        if trigger == "step":
            meta["paused"] = True
            _apply_live(trainer, meta, settings.lr, settings.reg)
            display = trainer.config.display
            ran = step_within(trainer, display - trainer.iteration % display)
            if trainer.iteration % display and not trainer.done:  # cut by the time limit
                meta["note"] = (f"Step stopped at iteration {trainer.iteration}: an update "
                                f"trains for at most {LIMITS.tick_seconds:g} s. Press Step "
                                f"again to go on.")
        elif trigger in ("tick", "pulse") and not meta["paused"]:
            _apply_live(trainer, meta, settings.lr, settings.reg)
            # A pulse that finds the run going is the answer to Train: at top speed it
            # trains a quarter of the time box, so the click shows its effect sooner.
            ran = run_for(trainer, settings.speed, budget if trigger == "tick" else budget / 4)
    if trainer.done:
        meta["paused"] = True

    curves = settings.curves or ()
    if not same_run:
        figures = (
            curves_figure(history.since(0), "train_acc" in curves, "test_loss" in curves),
            confusion_figure(trainer.confusion("test"), trainer.dataset.class_names),
            weights_figure(trainer.params, trainer.dataset.feature_names,
                           trainer.dataset.class_names),
        )
    elif (ran or settings.client_points != len(history)
          or settings.client_iteration != trainer.iteration):
        curves_update = curves_patch(history.since(settings.client_points))
        if heatmaps_due(trigger, settings, trainer.iteration, meta["paused"]):
            figures = (curves_update, confusion_patch(trainer.confusion("test")),
                       weights_patch(trainer.params))
        else:
            figures = (curves_update, no_update, no_update)
    elif trigger != "tick":  # e.g. Pause right after an update that skipped the heatmaps
        figures = (no_update, confusion_patch(trainer.confusion("test")),
                   weights_patch(trainer.params))
    else:
        figures = (no_update, no_update, no_update)

    if trainer.status == "diverged" and same_run and not _finite(trainer.params):
        figures = (figures[0], no_update, no_update)  # the last good heatmaps stay on screen
    children, state, iteration = status_view(trainer, meta)
    running = state == "running"
    return TickResult(
        *figures, children, state, iteration,
        {"run": meta["run"], "n": len(history), "it": trainer.iteration},
        -1 if running else 0, "Pause" if running else "Train")


# ------------------------------------------------------------------------------ buttons
def toggle_train(store, session, controls: dict, lr, reg) -> tuple:
    """Train/Pause: flip the session's paused flag (a finished run stays finished).
    Returns (pulse, status): the pulse makes `advance` render the new state at once.
    The controls are used only to create a session that does not exist."""
    try:
        settings = validate({"session": session, "lr": lr, "reg": reg, **controls})
        config = config_from(settings)
    except ValueError as exc:
        refused("Train/Pause", str(exc), session)
        return no_update, error_children(str(exc))
    try:
        with store.session(settings.session, lambda: Trainer(config)) as s:
            if s.trainer.done:
                s.meta["paused"] = True
                s.meta["note"] = ("This run has finished. Press Reset, or change a setting, "
                                  "to start a new one.")
            else:
                s.meta["paused"] = not s.meta["paused"]
                s.meta["note"] = ""  # the last note is history now
    except SessionBusy:
        return no_update, error_children(BUSY + " Press Train again.")
    except StoreUnavailable as exc:
        return no_update, error_children(str(exc))
    return pulse(), no_update


def _changes(old: Config, new: Config) -> list[str]:
    """Words for what differs between two configs, ignoring lr and reg (applied live)."""
    old_d, new_d = old.to_dict(), new.to_dict()
    words = []
    for key, _id, name in RUN_CONTROLS:
        if key == "layers":
            a, b = len(old_d["hidden"]), len(new_d["hidden"])
        elif key == "hidden":
            a, b = old_d["hidden"][0], new_d["hidden"][0]
        else:
            a, b = old_d[key], new_d[key]
        if a != b:
            words.append(f"{name} {a} → {b}")
    rest = {k for k in old_d if old_d[k] != new_d.get(k)} - {"lr", "reg", *RUN_KEYS, "hidden"}
    words.extend(sorted(rest))
    return words


def restart(store, trigger: str | None, session, controls: dict, lr, reg) -> RestartResult:
    """Start a new run. `trigger`: "reset", "document" (the document's run, and its values on
    the controls) or "controls" (a run setting changed: new run only if the settings differ
    from the session's run; the note says what changed)."""
    keep = RestartResult(no_update, (no_update,) * (len(RUN_CONTROLS) + 2), no_update)
    try:
        if trigger == "document":
            settings = validate({"session": session})
            config = check_run(Config.document())
        else:
            settings = validate({"session": session, "lr": lr, "reg": reg, **controls})
            config = config_from(settings)
    except ControlError as exc:
        refused("new run", str(exc), session)
        return keep._replace(status=error_children(str(exc)))
    except ValueError as exc:
        refused("new run", str(exc), session)
        return keep._replace(status=error_children(f"These settings cannot be used: {exc}"))
    try:
        with store.session(settings.session, lambda: Trainer(config)) as s:
            if trigger == "document":
                note = ("The document's run: hidden 6, lr 0.01, reg 0.001, maxit 3000, "
                        "display 50, seed 1, relu. Press Train.")
            elif trigger == "reset":
                note = "Reset: a new run with the current settings."
            else:
                changed = _changes(s.trainer.config, config)
                if not changed:
                    raise PreventUpdate
                note = f"New run: {', '.join(changed)}."
            s.new_run(Trainer(config), note)
    except SessionBusy:
        return keep._replace(status=error_children(
            BUSY + " Press the button, or change the setting, again."))
    except StoreUnavailable as exc:
        return keep._replace(status=error_children(str(exc)))
    if trigger == "document":
        values = tuple(DOCUMENT[key] for key in RUN_KEYS) + (DOCUMENT["lr"], DOCUMENT["reg"])
        return RestartResult(pulse(), values, no_update)
    return keep._replace(pulse=pulse())


# ----------------------------------------------------------------------------- cosmetic
def show_values(hidden, lr, reg, maxit, speed, layers) -> tuple:
    """The read-outs next to the sliders; "?" for a value that does not validate."""
    problems = []

    def shown(key, raw, fmt):
        try:
            return fmt(getattr(validate({key: raw}), key))
        except ControlError as exc:
            problems.append(str(exc))
            return "?"

    values = (shown("hidden", hidden, str), shown("lr", lr, format_number),
              shown("reg", reg, format_number), shown("maxit", maxit, str),
              shown("speed", speed, format_speed), shown("layers", layers, str))
    if problems:
        refused("slider read-outs", " ".join(problems))
    return values


def show_curves(curves):
    try:
        chosen = validate({"curves": curves}).curves
    except ControlError as exc:
        refused("curve options", str(exc))
        raise PreventUpdate from None
    return curves_visibility_patch("train_acc" in chosen, "test_loss" in chosen)


# ----------------------------------------------------------------------------- wiring
_TRIGGERS = {ids.INTERVAL_TICK: "tick", ids.BUTTON_STEP: "step", ids.STORE_PULSE: "pulse",
             ids.BUTTON_RESET: "reset", ids.BUTTON_DOCUMENT: "document"}


def _trigger(default=None):
    return _TRIGGERS.get(ctx.triggered_id, default)


def register_callbacks(app, store) -> None:
    run_states = [State(cid, "value") for _key, cid, _words in RUN_CONTROLS]
    run_inputs = [Input(cid, "value") for _key, cid, _words in RUN_CONTROLS]
    live_states = [State(cid, "value") for _key, cid in LIVE_CONTROLS]
    n_run = len(RUN_CONTROLS)

    @app.callback(
        Output(ids.GRAPH_CURVES, "figure"),
        Output(ids.GRAPH_CONFUSION, "figure"),
        Output(ids.GRAPH_WEIGHTS, "figure"),
        Output(ids.DIV_STATUS, "children"),
        Output(ids.DIV_STATUS, "data-state"),
        Output(ids.DIV_STATUS, "data-iteration"),
        Output(ids.STORE_CLIENT, "data"),
        Output(ids.INTERVAL_TICK, "max_intervals"),
        Output(ids.BUTTON_TRAIN, "children"),
        Input(ids.INTERVAL_TICK, "n_intervals"),
        Input(ids.BUTTON_STEP, "n_clicks"),
        Input(ids.STORE_PULSE, "data"),
        State(ids.STORE_SESSION, "data"),
        State(ids.STORE_CLIENT, "data"),
        State(ids.SLIDER_SPEED, "value"),
        *live_states,
        State(ids.CHECKLIST_CURVES, "value"),
        *run_states,
        running=[(Output(ids.INTERVAL_TICK, "disabled"), True, False)],
    )
    def _advance(_n, _step, _pulse, session, client, speed, lr, reg, curves, *run_values):
        return advance(store, _trigger(), session, client, speed, lr, reg,
                       dict(zip(RUN_KEYS, run_values, strict=True)), curves)

    @app.callback(
        Output(ids.STORE_PULSE, "data", allow_duplicate=True),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Input(ids.BUTTON_TRAIN, "n_clicks"),
        State(ids.STORE_SESSION, "data"),
        *live_states,
        *run_states,
        prevent_initial_call=True,
    )
    def _toggle(_clicks, session, lr, reg, *run_values):
        return toggle_train(store, session, dict(zip(RUN_KEYS, run_values, strict=True)), lr, reg)

    @app.callback(
        Output(ids.STORE_PULSE, "data", allow_duplicate=True),
        *[Output(cid, "value") for _key, cid, _w in RUN_CONTROLS],
        *[Output(cid, "value") for _key, cid in LIVE_CONTROLS],
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Input(ids.BUTTON_RESET, "n_clicks"),
        Input(ids.BUTTON_DOCUMENT, "n_clicks"),
        *run_inputs,
        State(ids.STORE_SESSION, "data"),
        *live_states,
        prevent_initial_call=True,
    )
    def _restart(_reset, _document, *values):
        run_values, (session, lr, reg) = values[:n_run], values[n_run:]
        result = restart(store, _trigger("controls"), session,
                         dict(zip(RUN_KEYS, run_values, strict=True)), lr, reg)
        return (result.pulse, *result.controls, result.status)

    @app.callback(
        Output(ids.TEXT_HIDDEN, "children"),
        Output(ids.TEXT_LR, "children"),
        Output(ids.TEXT_REG, "children"),
        Output(ids.TEXT_MAXIT, "children"),
        Output(ids.TEXT_SPEED, "children"),
        Output(ids.TEXT_LAYERS, "children"),
        Input(ids.SLIDER_HIDDEN, "value"),
        Input(ids.SLIDER_LR, "value"),
        Input(ids.SLIDER_REG, "value"),
        Input(ids.SLIDER_MAXIT, "value"),
        Input(ids.SLIDER_SPEED, "value"),
        Input(ids.SLIDER_LAYERS, "value"),
        prevent_initial_call=True,
    )
    def _show_values(*values):
        return show_values(*values)

    @app.callback(
        Output(ids.GRAPH_CURVES, "figure", allow_duplicate=True),
        Input(ids.CHECKLIST_CURVES, "value"),
        prevent_initial_call=True,
    )
    def _show_curves(curves):
        return show_curves(curves)
