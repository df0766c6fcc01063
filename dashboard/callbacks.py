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
- Every new run is made by `datasource.new_trainer(settings, store, sid)`: the data the data
  controls choose (DATA_CONTROLS: a built-in set and its parameters, split, standardise; or
  this tab's CSV), the network the run controls choose, checked against the limits.

Every raw value goes through validation.validate first; nothing else trusts the page.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import replace
from typing import NamedTuple

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from mlpcore import DATASETS, Config, Trainer, explain_divergence

from . import ids
from .datasource import MissingData, data_meta, new_trainer, run_config
from .figures import confusion_figure, curves_figure, weights_figure
from .guards import refused
from .layout import (
    HIDDEN,
    PARAM_BLOCKS,
    data_view,
    error_children,
    format_number,
    format_speed,
    status_children,
)
from .limits import LIMITS
from .markup_inside import why_line
from .patches import confusion_patch, curves_patch, curves_visibility_patch, weights_patch
from .pins import saved_pins
from .sessions import SessionBusy, SessionTooLarge, StoreUnavailable
from .validation import (
    CSV,
    DATA_PARAMS,
    DOCUMENT,
    DOCUMENT_DATA,
    ControlError,
    Settings,
    check_run,
    data_settings,
    validate,
)

TIME_BOX = 0.04  # seconds of training per update at "as fast as possible"
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
# The data controls (issue 8): their change starts a new run, too. Same shape as RUN_CONTROLS;
# the keys are validation.Settings' (validated by validate(), completed and checked against
# the chosen set by validation.data_settings). Values as the components hold them: data a
# name of validation.DATA_NAMES, points/classes/noise numbers, split "document"/"fraction",
# train_fraction a number, standardize the switch's list ([] or ["standardize"]).
DATA_CONTROLS = (
    ("data", ids.DROPDOWN_DATA, "data"),
    ("points", ids.SLIDER_DATA_POINTS, "points per class"),
    ("classes", ids.SLIDER_DATA_CLASSES, "classes"),
    ("noise", ids.SLIDER_DATA_NOISE, "noise"),
    ("split", ids.RADIO_SPLIT, "split"),
    ("train_fraction", ids.SLIDER_TRAIN_FRACTION, "train fraction"),
    ("standardize", ids.CHECKLIST_STANDARDIZE, "standardise"),
)
DATA_KEYS = tuple(key for key, _id, _words in DATA_CONTROLS)
CONTROL_KEYS = RUN_KEYS + DATA_KEYS  # what makes a run: the `controls` of advance, restart...
# A set's parameter sliders: settings key -> component id (their range follows the set)
PARAM_SLIDERS = {key: cid for key, cid, _w in DATA_CONTROLS if key in dict(DATA_PARAMS)}
SLIDER_PROPS = ("value", "min", "max", "step", "marks")
# What restart may write on the data controls, in its Output order
DATA_OUTPUTS = (
    (ids.DROPDOWN_DATA, "value"), (ids.RADIO_SPLIT, "value"), (ids.CHECKLIST_STANDARDIZE, "value"),
    *((cid, prop) for cid in PARAM_SLIDERS.values() for prop in SLIDER_PROPS),
)
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
    data: dict | None = None  # {(component id, prop): value} for DATA_OUTPUTS; None: none


# ------------------------------------------------------------------------------ helpers
def config_from(settings: Settings) -> Config:
    """The Config for validated settings: the document's run with the controls applied.
    ControlError if the run would not fit the limits on iris (validation.check_run; a run
    on other data is checked with its own shape by new_trainer)."""
    return check_run(run_config(settings))


def fresh_session(settings: Settings, store):
    """(new_trainer, made) for `store.session`: makes the run the page's controls ask for,
    when the session does not exist (first load, expired, evicted); if they ask for a CSV
    that went with the old session, iris instead (made["note"] says so). made["data"]: the
    data record for the new session's meta (store it when s.is_new)."""
    made = {}

    def create() -> Trainer:
        chosen = settings
        try:
            trainer = new_trainer(chosen, store, settings.session)
        except MissingData as exc:
            chosen = replace(settings, data=None)
            trainer = new_trainer(chosen, store, settings.session)
            made["note"] = str(exc)
        made["data"] = data_meta(chosen, trainer)
        return trainer
    return create, made


def lazy_session(raw: dict, controls: dict, store):
    """(create, made) as fresh_session's, for a callback that checked only its own values
    (`raw`): the run and data controls are checked only when the session must be made anew.
    A control the user is still editing (an emptied Seed box) must not stop a run that
    exists; a session that cannot be made from them raises ControlError (nothing stored)."""
    made = {}

    def create() -> Trainer:
        try:
            settings = validate({**raw, **controls})
            run_config(settings)
        except ControlError:
            raise
        except ValueError as exc:  # Config's own checks
            raise ControlError(f"These settings cannot be used: {exc}") from None
        make, info = fresh_session(settings, store)
        trainer = make()
        made.update(info)
        return trainer
    return create, made


def _record_fresh(s, made: dict, note: str = "") -> None:
    """A session the store just made: its data record and what the page should be told."""
    s.meta["data"] = made.get("data")
    s.meta["note"] = " ".join(n for n in (note, made.get("note", "")) if n)


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
    if trainer.status == "diverged":  # and why (issue 7): the first non-finite quantity
        message = f"{message} {why_line(explain_divergence(trainer))}"
    children = status_children(state, trainer.iteration, trainer.config.maxit,
                               _last(trainer.history, "loss"),
                               _last(trainer.history, "test_acc"),
                               message, meta.get("note", ""))
    return children, state, trainer.iteration


def run_for(trainer: Trainer, speed: int, budget: float = TIME_BOX) -> int:
    """Advance `speed` iterations, or (speed 0) as many as fit in `budget` seconds.
    Returns the number of iterations run. Either way an update trains for at most
    LIMITS.tick_seconds (see step_within)."""
    if speed > 0:
        return step_within(trainer, speed)
    return step_within(trainer, trainer.config.maxit, min(budget, LIMITS.tick_seconds))


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
    and DATA_CONTROLS values by key (checked and used only to create a session that does not
    exist)."""
    raw = {"session": session, "client": client, "speed": speed, "lr": lr, "reg": reg,
           "curves": curves}
    try:
        settings = validate(raw)
    except ControlError as exc:
        return _error(str(exc), session)
    create, made = lazy_session(raw, controls, store)
    try:
        with store.session(settings.session, create) as s:
            if s.is_new:
                _record_fresh(s, made, _fresh_run_note(settings))
            return _advance_session(s, trigger, settings, budget,
                                    lambda: saved_pins(store, settings.session))
    except ControlError as exc:  # a fresh run the limits refuse: nothing was stored
        return _error(str(exc), session)
    except SessionBusy:
        if trigger == "tick":
            raise PreventUpdate from None  # the next tick retries; the page record is unchanged
        # a click's pulse found the run busy: tick on, so the page learns the run's state
        return _error(BUSY, where=None)._replace(max_intervals=-1)
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


def _advance_session(s, trigger, settings: Settings, budget: float, pins=list) -> TickResult:
    """`pins()`: the session's pinned runs, read only when a whole curves figure is sent."""
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
            curves_figure(history.since(0), "train_acc" in curves, "test_loss" in curves,
                          pins(), LIMITS.max_pins),
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
    The controls are used only to create a session that does not exist, but checked always:
    pressing Train with a control that cannot be used says so."""
    raw = {"session": session, "lr": lr, "reg": reg}
    try:
        settings = validate({**raw, **controls})
        run_config(settings)
    except ValueError as exc:
        refused("Train/Pause", str(exc), session)
        return no_update, error_children(str(exc))
    create, made = lazy_session(raw, controls, store)
    try:
        with store.session(settings.session, create) as s:
            if s.is_new:  # the note says why (an expired run, a CSV that went with it)
                _record_fresh(s, made, _fresh_run_note(settings))
            if s.trainer.done:
                s.meta["paused"] = True
                s.meta["note"] = ("This run has finished. Press Reset, or change a setting, "
                                  "to start a new one.")
            else:
                s.meta["paused"] = not s.meta["paused"]
                if not s.is_new:
                    s.meta["note"] = ""  # the last note is history now
    except ControlError as exc:
        refused("Train/Pause", str(exc), session)
        return no_update, error_children(str(exc))
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


def _shown(value) -> str:
    return "—" if value is None else format_number(value)


def _data_name(data: dict) -> str:
    return f"your CSV ({data.get('file', 'file')})" if data["data"] == CSV else data["data"]


def _data_changes(old: dict | None, new: dict) -> list[str]:
    """Words for what differs between two runs' data records (validation.data_settings)."""
    old = old or data_settings(Settings())  # a session from before the data controls: iris
    words = dict((key, w) for key, _id, w in DATA_CONTROLS)
    if old["data"] != new["data"]:
        changes = [f"data {_data_name(old)} → {_data_name(new)}"]
    else:
        changes = [f"{words[key]} {_shown(old.get(key))} → {_shown(new[key])}"
                   for key, _name in DATA_PARAMS if old.get(key) != new[key]]
    if old["split"] != new["split"]:
        changes.append(f"split {old['split']} → {new['split']}")
    elif old.get("train_fraction") != new["train_fraction"]:
        changes.append(f"train fraction {_shown(old.get('train_fraction'))} → "
                       f"{_shown(new['train_fraction'])}")
    if bool(old.get("standardize")) != new["standardize"]:
        on = {True: "on", False: "off"}
        changes.append(f"standardise {on[bool(old.get('standardize'))]} → "
                       f"{on[new['standardize']]}")
    return changes


def param_sliders(name: str) -> dict:
    """{(slider id, prop): value}: a built-in set's parameter sliders at its own range and
    defaults (mlpcore.toydata's registry); nothing for sets without them, or CSV."""
    if name not in DATASETS:
        return {}
    own = {p.name: p for p in DATASETS[name].params}
    out = {}
    for key, pname in DATA_PARAMS:
        p = own.get(pname)
        if p is not None:
            marks = {format_number(v): format_number(v) for v in (p.min, p.max)}
            values = (p.default, p.min, p.max, p.step, marks)
            out.update({(PARAM_SLIDERS[key], prop): v
                        for prop, v in zip(SLIDER_PROPS, values, strict=True)})
    return out


def restart(store, trigger: str | None, session, controls: dict, lr, reg) -> RestartResult:
    """Start a new run. `trigger`: "reset", "document" (the document's run, and its values on
    the controls, data included: iris, the document's split), "controls" (a run or data
    setting changed: new run only if the settings differ from the session's run; the note
    says what changed) or "data" (the data set alone changed: its parameters start at the
    set's defaults, and its sliders take the set's ranges)."""
    keep = RestartResult(no_update, (no_update,) * (len(RUN_CONTROLS) + 2), no_update)
    sliders = {}
    try:
        if trigger == "document":
            raw = {**DOCUMENT, **DOCUMENT_DATA, "session": session}
        else:
            raw = {"session": session, "lr": lr, "reg": reg, **controls}
            if trigger == "data":  # another set: its own parameters, at their defaults
                raw = {k: v for k, v in raw.items() if k not in dict(DATA_PARAMS)}
                name = controls.get("data")
                sliders = param_sliders(name) if isinstance(name, str) else {}
                keep = keep._replace(data=sliders)
        settings = validate(raw)
        data = data_settings(settings)
        config = run_config(settings)
    except ControlError as exc:
        refused("new run", str(exc), session)
        return keep._replace(status=error_children(str(exc)))
    except ValueError as exc:
        refused("new run", str(exc), session)
        return keep._replace(status=error_children(f"These settings cannot be used: {exc}"))
    create, made = fresh_session(settings, store)
    ranges = {}
    try:
        with store.session(settings.session, create) as s:
            if trigger == "document":
                note = ("The document's run: iris, hidden 6, lr 0.01, reg 0.001, maxit 3000, "
                        "display 50, seed 1, relu. Press Train.")
            elif trigger == "reset":
                note = "Reset: a new run with the current settings."
            else:
                old = s.meta.get("data") or {}
                changed = _data_changes(old, data) + _changes(s.trainer.config, config)
                if not changed:
                    raise PreventUpdate
                note = f"New run: {', '.join(changed)}."
                if trigger == "controls" and old.get("data", "iris") != data["data"]:
                    # another set with its parameters given (a link, say): its sliders' ranges
                    ranges = {out: v for out, v in param_sliders(data["data"]).items()
                              if out[1] != "value"}
            trainer = new_trainer(settings, store, settings.session)
            s.new_run(trainer, note)
            s.meta["data"] = data_meta(settings, trainer)
    except ControlError as exc:  # the data, or the network on it, cannot be used
        refused("new run", str(exc), session)
        return keep._replace(status=error_children(str(exc)))
    except SessionBusy:
        return keep._replace(status=error_children(
            BUSY + " Press the button, or change the setting, again."))
    except StoreUnavailable as exc:
        return keep._replace(status=error_children(str(exc)))
    if trigger == "document":
        values = tuple(DOCUMENT[key] for key in RUN_KEYS) + (DOCUMENT["lr"], DOCUMENT["reg"])
        data_values = {(cid, "value"): DOCUMENT_DATA[key] for key, cid, _w in DATA_CONTROLS
                       if key in DOCUMENT_DATA}
        return RestartResult(pulse(), values, no_update, data_values)
    return keep._replace(pulse=pulse(), data=keep.data or ranges or None)


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


def show_data(data, split, points, classes, noise, train_fraction) -> tuple:
    """The Data group's view: the set's description, which blocks apply (class names of the
    parameter blocks and of the train fraction's), and the read-outs ("?" for a value that
    does not validate). Outputs in the order of _DATA_VIEW."""
    problems = []

    def shown(key, raw):
        try:
            value = getattr(validate({key: raw}), key)
        except ControlError as exc:
            problems.append(str(exc))
            return None, "?"
        return value, ("—" if value is None else str(value) if isinstance(value, str)
                       else format_number(value))

    name, _text = shown("data", data)
    info, applies = data_view(name)
    split_value, _text = shown("split", split)
    if problems:  # a data set or split that does not validate (forged): the page says "?"
        info = "?"
    texts = {key: shown(key, raw)[1] for key, raw in
             (("points", points), ("classes", classes), ("noise", noise),
              ("train_fraction", train_fraction))}
    if problems:
        refused("data read-outs", " ".join(problems))
    classes_of = [("param" if applies[key] else f"param {HIDDEN}")
                  for key, _t, _d, _s in PARAM_BLOCKS]
    fraction_cls = "param" if split_value == "fraction" else f"param {HIDDEN}"
    return (info, *classes_of, fraction_cls,
            *[texts[key] for key, _t, _d, _s in PARAM_BLOCKS], texts["train_fraction"])


_DATA_VIEW = (
    (ids.TEXT_DATA_INFO, "children"),
    *((div_id, "className") for _k, _t, div_id, _s in PARAM_BLOCKS),
    (ids.DIV_TRAIN_FRACTION, "className"),
    *((text_id, "children") for _k, text_id, _d, _s in PARAM_BLOCKS),
    (ids.TEXT_TRAIN_FRACTION, "children"),
)


# ----------------------------------------------------------------------------- wiring
_TRIGGERS = {ids.INTERVAL_TICK: "tick", ids.BUTTON_STEP: "step", ids.STORE_PULSE: "pulse",
             ids.BUTTON_RESET: "reset", ids.BUTTON_DOCUMENT: "document"}


def _trigger(default=None):
    return _TRIGGERS.get(ctx.triggered_id, default)


def _restart_trigger():
    """restart's trigger: "data" when the data set alone changed (its parameters then start
    at the new set's defaults), else as _trigger (a control: "controls")."""
    if ctx.triggered_id == ids.DROPDOWN_DATA and len(ctx.triggered_prop_ids) == 1:
        return "data"
    return _trigger("controls")


def register_callbacks(app, store) -> None:
    # the run controls and the data controls: what makes a run (CONTROL_KEYS order)
    run_states = [State(cid, "value") for _key, cid, _words in RUN_CONTROLS + DATA_CONTROLS]
    run_inputs = [Input(cid, "value") for _key, cid, _words in RUN_CONTROLS + DATA_CONTROLS]
    live_states = [State(cid, "value") for _key, cid in LIVE_CONTROLS]
    n_run = len(CONTROL_KEYS)

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
                       dict(zip(CONTROL_KEYS, run_values, strict=True)), curves)

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
        return toggle_train(store, session, dict(zip(CONTROL_KEYS, run_values, strict=True)),
                            lr, reg)

    @app.callback(
        Output(ids.STORE_PULSE, "data", allow_duplicate=True),
        *[Output(cid, "value") for _key, cid, _w in RUN_CONTROLS],
        *[Output(cid, "value") for _key, cid in LIVE_CONTROLS],
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        *[Output(cid, prop) for cid, prop in DATA_OUTPUTS],
        Input(ids.BUTTON_RESET, "n_clicks"),
        Input(ids.BUTTON_DOCUMENT, "n_clicks"),
        *run_inputs,
        State(ids.STORE_SESSION, "data"),
        *live_states,
        prevent_initial_call=True,
    )
    def _restart(_reset, _document, *values):
        run_values, (session, lr, reg) = values[:n_run], values[n_run:]
        result = restart(store, _restart_trigger(), session,
                         dict(zip(CONTROL_KEYS, run_values, strict=True)), lr, reg)
        data = result.data or {}
        return (result.pulse, *result.controls, result.status,
                *[data.get(out, no_update) for out in DATA_OUTPUTS])

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

    @app.callback(
        *[Output(cid, prop) for cid, prop in _DATA_VIEW],
        Input(ids.DROPDOWN_DATA, "value"),
        Input(ids.RADIO_SPLIT, "value"),
        Input(ids.SLIDER_DATA_POINTS, "value"),
        Input(ids.SLIDER_DATA_CLASSES, "value"),
        Input(ids.SLIDER_DATA_NOISE, "value"),
        Input(ids.SLIDER_TRAIN_FRACTION, "value"),
        prevent_initial_call=True,
    )
    def _show_data(data, split, points, classes, noise, train_fraction):
        return show_data(data, split, points, classes, noise, train_fraction)
