"""The Compare tab: pinned runs (a runs table and faded curves) and an lr x reg sweep.

Pins. "Pin this run" keeps the run's curves and final numbers (dashboard/pins.py) in the
session store beside the run: a row of the runs table, and two faded traces (loss, test
accuracy) on the main curves plot after its live ones. The tick draws them whenever it sends
a whole curves figure (a new run), so they survive Reset and new settings; a pin change
sends a Patch that assigns every pin slot (patches.pins_patch). Show/Hide and Remove per
row; at most LIMITS.max_pins.

Sweep. A grid of learning rates x regularisations, trained for a chosen number of
iterations from the current run's settings and data, as a Dash background callback
(dashboard/background.py: Diskcache by default, Celery when configured): Run sweep -> a
plan made on the server from the run (compare_plan) -> the background callback (its cells,
one at a time or spread over Celery workers) with a progress bar and Cancel -> a heatmap of
the final test accuracy (or loss), filled cell by cell. Clicking a cell puts its lr and reg
on the sliders: they apply to the run from its next update, with no reset (Reset trains a
new run with them from the start).
"""

from __future__ import annotations

import time
import uuid

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from mlpcore.sweep import dataset_to_spec, sweep_tasks

from .. import ids, panels  # panels: attributes used at call time (it imports us)
from ..background import run_here, run_on_celery, sweep_manager, uses_celery
from ..figures import format_number, sweep_figure
from ..guards import refused
from ..layout import GRAPH_CONFIG
from ..limits import LIMITS
from ..patches import pins_patch
from ..pins import make_pin, pins_to_json, run_row, saved_pins, settings_words
from ..sessions import SessionBusy, StoreUnavailable
from ..validation import (
    LR_VALUES,
    REG_VALUES,
    SWEEP_ITERATIONS,
    ControlError,
    check_sweep_plan,
    check_sweep_record,
    check_sweep_size,
    validate,
)
from .throttle import Gate

TAB = "compare"
LABEL = "Compare"

BUTTON_PIN = "pin-button"
TBODY_CURRENT = "runs-current"
TBODY_PINS = "runs-pins"
TEXT_PIN_NOTE = "pin-note"
PIN_SHOW = "pin-show"  # pattern-matching ids: {"type": PIN_SHOW, "pin": number}
PIN_REMOVE = "pin-remove"
DROPDOWN_SWEEP_LR = "sweep-lr-dropdown"
DROPDOWN_SWEEP_REG = "sweep-reg-dropdown"
INPUT_SWEEP_ITERATIONS = "sweep-iterations-input"
BUTTON_SWEEP = "sweep-button"
BUTTON_SWEEP_CANCEL = "sweep-cancel-button"
PROGRESS_SWEEP = "sweep-progress"
TEXT_SWEEP_PROGRESS = "sweep-progress-text"
TEXT_SWEEP_NOTE = "sweep-note"
RADIO_SWEEP_METRIC = "sweep-metric-radio"
GRAPH_SWEEP = "sweep-graph"
STORE_SWEEP_PLAN = "sweep-plan-store"  # the plan compare_plan makes; starts the sweep
STORE_SWEEP_LIVE = "sweep-live-store"  # the record so far (the sweep's progress)
STORE_SWEEP = "sweep-store"  # the finished sweep's record
STORE_COMPARE_RUN = "compare-run-store"  # written by GATE: the page's run record, tab open
# live_inputs() -> STORE_COMPARE_RUN in the browser, only while this tab is open: a hidden
# Compare tab sends the server nothing on a tick (the current run's row follows the ticks)
GATE = Gate(STORE_COMPARE_RUN, """
function (client, tab) {
    if (tab !== "TAB" || !client) { return window.dash_clientside.no_update; }
    return client;
}
""".replace("TAB", TAB))

DEFAULT_LRS = (0.001, 0.01, 0.1, 1.0)
DEFAULT_REGS = (0.0, 0.001, 0.01)
DEFAULT_ITERATIONS = 1000
STATE_WORDS = {"ready": "ready", "running": "running", "paused": "paused",
               "abstol": "converged", "maxit": "finished", "diverged": "diverged"}
COLUMNS = ("Run", "Settings", "Final loss", "Test accuracy", "Iterations", "State", "")


class NoRun(LookupError):
    """There is no run in this session yet (nothing to pin)."""


def _no_run():
    raise NoRun


# ------------------------------------------------------------------------------ layout
def _options(values) -> list[dict]:
    return [{"label": format_number(v), "value": i} for i, v in enumerate(values)]


def layout():
    return html.Div(className="panel-body compare", children=[
        html.Section(className="compare-pins", children=[
            html.Div(className="compare-head", children=[
                html.H3("Runs"),
                html.Button("Pin this run", id=BUTTON_PIN, n_clicks=0, className="button",
                            title=f"Keep this run's curves and numbers (at most "
                                  f"{LIMITS.max_pins})"),
                html.Span(id=TEXT_PIN_NOTE, className="compare-note", role="status"),
            ]),
            dcc.Store(id=STORE_COMPARE_RUN, data={}, storage_type="memory"),  # not None
            html.Table(className="runs-table", children=[
                html.Thead(html.Tr([html.Th(c) for c in COLUMNS])),
                html.Tbody(id=TBODY_CURRENT),
                html.Tbody(id=TBODY_PINS),
            ]),
        ]),
        html.Section(className="compare-sweep", children=[
            html.H3("Sweep: learning rate × regularisation"),
            html.Div(className="sweep-controls", children=[
                html.Div(className="control", children=[
                    html.Label("Learning rates", htmlFor=DROPDOWN_SWEEP_LR,
                               className="control-label"),
                    dcc.Dropdown(id=DROPDOWN_SWEEP_LR, options=_options(LR_VALUES), multi=True,
                                 value=[LR_VALUES.index(v) for v in DEFAULT_LRS],
                                 clearable=False, className="sweep-dropdown"),
                ]),
                html.Div(className="control", children=[
                    html.Label("Regularisations", htmlFor=DROPDOWN_SWEEP_REG,
                               className="control-label"),
                    dcc.Dropdown(id=DROPDOWN_SWEEP_REG, options=_options(REG_VALUES),
                                 multi=True, clearable=False, className="sweep-dropdown",
                                 value=[REG_VALUES.index(v) for v in DEFAULT_REGS]),
                ]),
                html.Div(className="control small", children=[
                    html.Label("Iterations", htmlFor=INPUT_SWEEP_ITERATIONS,
                               className="control-label"),
                    dcc.Input(id=INPUT_SWEEP_ITERATIONS, type="number",
                              value=DEFAULT_ITERATIONS, min=SWEEP_ITERATIONS[0],
                              max=SWEEP_ITERATIONS[1], step=100, debounce=True,
                              className="number"),
                ]),
                html.Div(className="sweep-buttons", children=[
                    html.Button("Run sweep", id=BUTTON_SWEEP, n_clicks=0,
                                className="button primary"),
                    html.Button("Cancel", id=BUTTON_SWEEP_CANCEL, n_clicks=0, disabled=True,
                                className="button"),
                ]),
            ]),
            html.Div(className="sweep-progress", children=[
                html.Progress(id=PROGRESS_SWEEP, value=0, max=1),
                html.Span(id=TEXT_SWEEP_PROGRESS, className="compare-note"),
            ]),
            html.Div(id=TEXT_SWEEP_NOTE, className="compare-note", role="status"),
            dcc.RadioItems(id=RADIO_SWEEP_METRIC, value="test_accuracy", inline=True,
                           className="radio",
                           options=[{"label": "test accuracy", "value": "test_accuracy"},
                                    {"label": "loss", "value": "loss"}]),
            dcc.Graph(id=GRAPH_SWEEP, className="sweep-graph",
                      figure=sweep_figure(None, "test_accuracy", LR_VALUES, REG_VALUES),
                      config=GRAPH_CONFIG),
            # data {} ("none yet"), not None: a memory Store mounted with None (this tab's
            # content mounts when the tab is first opened) sets its data to undefined, which
            # would fire the callbacks that take it
            dcc.Store(id=STORE_SWEEP_PLAN, data={}, storage_type="memory"),
            dcc.Store(id=STORE_SWEEP_LIVE, data={}, storage_type="memory"),
            dcc.Store(id=STORE_SWEEP, data={}, storage_type="memory"),
        ]),
    ])


# ------------------------------------------------------------------------- runs table
def _value(x, digits: str) -> str:
    return "—" if x is None else format(x, digits)


def row_cells(label, row: dict) -> list:
    """The table cells of a run (pins.run_row) or pin."""
    return [html.Td(label, className="run-name"),
            html.Td(settings_words(row["settings"]), className="run-settings"),
            html.Td(_value(row["loss"], ".4f")), html.Td(_value(row["accuracy"], ".4f")),
            html.Td(str(row["iterations"])),
            html.Td(STATE_WORDS.get(row["state"], row["state"]))]


def pin_rows(pins: list[dict]) -> list:
    rows = []
    for pin in pins:
        n = pin["n"]
        buttons = html.Td(className="run-buttons", children=[
            html.Button("Hide" if pin["visible"] else "Show", n_clicks=0, className="button",
                        id={"type": PIN_SHOW, "pin": n}),
            html.Button("Remove", n_clicks=0, className="button",
                        id={"type": PIN_REMOVE, "pin": n}),
        ])
        rows.append(html.Tr([*row_cells(f"pin {n}", pin), buttons],
                            className="run-pin" if pin["visible"] else "run-pin run-hidden"))
    if not rows:
        rows.append(html.Tr(html.Td("No pinned runs yet: train, then press Pin this run.",
                                    colSpan=len(COLUMNS), className="run-empty")))
    return rows


def current_row(store, client, session, tab) -> list:
    """The live run's row (only while the tab is open)."""
    from ..callbacks import ui_state  # the status line's words for the run's state

    validate({"client": client, "session": session})
    panels.showing(tab, TAB)
    with panels.read_run(store, session) as s:
        row = run_row(s.trainer, ui_state(s.trainer, s.meta.get("paused", True)))
    return [html.Tr([*row_cells("current", row), html.Td()], className="run-current")]


def pins_action(store, trigger, session, tab, max_pins: int = LIMITS.max_pins):
    """Pin / Show-Hide / Remove / the tab opened -> (pin rows, curves Patch, note).
    `trigger`: "pin", ("show" | "remove", raw pin number) or "tab"."""
    from ..callbacks import ui_state

    sid = validate({"session": session}).session
    panels.showing(tab, TAB)
    if trigger == "tab":
        return pin_rows(saved_pins(store, sid)), no_update, no_update
    action, number = trigger if isinstance(trigger, tuple) else (trigger, None)
    if action != "pin":
        number = validate({"pin": number}).pin
    with store.session(sid, _no_run) as s:
        pins = saved_pins(store, sid)
        if action == "pin":
            if len(pins) >= max_pins:
                raise ControlError(f"At most {max_pins} pinned runs: remove one first.")
            if s.trainer.iteration == 0:
                raise ControlError("Nothing to pin yet: train the run first.")
            number = max((p["n"] for p in pins), default=0) + 1
            state = ui_state(s.trainer, s.meta.get("paused", True))
            pins.append(make_pin(s.trainer, state, number))
            note = f"Pinned as pin {number}."
        else:
            pin = next((p for p in pins if p["n"] == number), None)
            if pin is None:
                raise ControlError(f"There is no pin {number} (any more).")
            if action == "show":
                pin["visible"] = not pin["visible"]
                note = f"Pin {number} {'shown' if pin['visible'] else 'hidden'}."
            else:
                pins.remove(pin)
                note = f"Pin {number} removed."
        store.put_pins(sid, pins_to_json(pins))
    return pin_rows(pins), pins_patch(pins, max_pins), note


def _pins_trigger():
    """What fired the pins callback: "pin", ("show"|"remove", number) or "tab"; None for a
    pattern-matching button that merely appeared (no click)."""
    tid = ctx.triggered_id
    if tid == BUTTON_PIN:
        return "pin"
    if isinstance(tid, dict) and tid.get("type") in (PIN_SHOW, PIN_REMOVE):
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            return None
        return ("show" if tid["type"] == PIN_SHOW else "remove", tid.get("pin"))
    return "tab"


# ------------------------------------------------------------------------------ sweep
def plan_sweep(store, session, lrs, regs, iterations) -> tuple:
    """Run sweep: the plan (the run's settings and data, the grid) for the background
    callback -> (plan, note)."""
    settings = validate({"session": session, "sweep_lrs": lrs, "sweep_regs": regs,
                         "sweep_iterations": iterations})
    check_sweep_size(settings)
    with panels.read_run(store, session) as s:
        config, dataset = s.trainer.config, s.trainer.dataset
    plan = {"id": uuid.uuid4().hex, "config": config.to_dict(),
            "lrs": list(settings.sweep_lrs), "regs": list(settings.sweep_regs),
            "iterations": settings.sweep_iterations, "data": dataset_to_spec(dataset)}
    try:
        plan = check_sweep_plan(plan)
    except ControlError:
        raise ControlError("This run's data set is too large to sweep from the page.") \
            from None
    cells = len(plan["lrs"]) * len(plan["regs"])
    return plan, f"Sweeping {cells} cells of {plan['iterations']} iterations from this " \
                 f"run's settings ({settings_words(_words_settings(config, dataset))})."


def _words_settings(config, dataset) -> dict:
    return {"hidden": list(config.hidden), "activation": config.activation, "lr": config.lr,
            "reg": config.reg, "maxit": config.maxit, "seed": config.seed,
            "display": config.display, "data": str(dataset.name)}


def new_record(plan: dict) -> dict:
    rows, cols = len(plan["regs"]), len(plan["lrs"])
    return {"id": plan["id"], "started": time.time(), "lrs": plan["lrs"],
            "regs": plan["regs"], "iterations": plan["iterations"],
            "acc": [[None] * cols for _ in range(rows)],
            "loss": [[None] * cols for _ in range(rows)],
            "status": [[None] * cols for _ in range(rows)], "done": 0, "state": "running"}


def run_sweep(plan_raw, set_progress, runner) -> tuple:
    """The background callback's body: the checked plan's cells through `runner` (run_here
    or Celery), progress after each -> (final record, note)."""
    try:
        plan = check_sweep_plan(plan_raw)
        if plan is None:
            raise PreventUpdate  # no sweep asked for
        tasks = sweep_tasks(plan["config"], [LR_VALUES[p] for p in plan["lrs"]],
                            [REG_VALUES[p] for p in plan["regs"]], plan["iterations"],
                            plan["data"])
    except ValueError as exc:  # ControlError, or the core's sentence (work, data)
        refused("sweep", str(exc))
        return no_update, f"Not run: {exc}"
    record = new_record(plan)
    cols, total = len(plan["lrs"]), len(tasks)
    set_progress((0, total, f"0 of {total} cells", record))

    def on_cell(k: int, cell: dict) -> None:
        i, j = divmod(k, cols)
        record["acc"][i][j] = cell["test_accuracy"]
        record["loss"][i][j] = cell["loss"]
        record["status"][i][j] = cell["status"]
        record["done"] += 1
        set_progress((record["done"], total, f"{record['done']} of {total} cells", record))

    runner(tasks, on_cell)
    record["state"] = "complete"
    return record, f"Done: {total} cells. Click a cell to put its lr and reg on the sliders."


def newest(*records):
    """The most recent of the page's sweep records (checked; None if there is none)."""
    checked = [r for r in (check_sweep_record(x) for x in records) if r is not None]
    return max(checked, key=lambda r: (r["started"], r["done"]), default=None)


def show_sweep(live, final, metric) -> dict:
    metric = validate({"sweep_metric": metric}).sweep_metric
    return sweep_figure(newest(live, final), metric, LR_VALUES, REG_VALUES)


def cancelled_note(plan, live) -> str:
    """Cancel: what the sweep got done (`plan`: the sweep asked for, `live`: its progress)."""
    settings = validate({"sweep_plan": plan, "sweep_record": live})
    plan, record = settings.sweep_plan, settings.sweep_record
    if plan is None:
        raise PreventUpdate
    total = len(plan["lrs"]) * len(plan["regs"])
    if record is None or record["id"] != plan["id"]:
        return "Cancelled before the first cell finished."
    if record["done"] >= total:
        raise PreventUpdate  # it had finished
    return (f"Cancelled after {record['done']} of {total} cells; the heatmap keeps the cells "
            "that finished.")


def load_cell(click) -> tuple:
    """A click on a heatmap cell -> (lr position, reg position, note)."""
    cell = validate({"sweep_click": click}).sweep_click
    if cell is None:
        raise PreventUpdate
    lr, reg = cell
    return lr, reg, (f"Learning rate {format_number(LR_VALUES[lr])} and regularisation "
                     f"{format_number(REG_VALUES[reg])} are on the sliders: they apply to "
                     "this run from its next update (no reset). Press Reset to train a new "
                     "run with them from the start, as the sweep did.")


# ------------------------------------------------------------------------------ wiring
def guarded(fn, where: str, n_outputs: int, note_index: int):
    """`fn` for a callback: ControlError (bad input) -> its message in this panel's note and
    one log line; no run yet, a busy run or the store away -> a note too. Nothing else
    changes (the other outputs get no_update)."""
    def run(*args):
        try:
            return fn(*args)
        except NoRun:
            message = "Nothing to pin yet: train the run first."
        except ControlError as exc:
            refused(where, str(exc))
            message = str(exc)
        except StoreUnavailable as exc:
            message = str(exc)
        except SessionBusy:
            message = "The run is busy; try again."
        out = [no_update] * n_outputs
        out[note_index] = f"Not applied: {message}"
        return tuple(out)
    return run


def register(app, store) -> None:
    manager = sweep_manager()
    runner = run_on_celery_with(manager.handle) if uses_celery(manager) else run_here
    _client, tab, session = panels.live_inputs()

    @app.callback(Output(TBODY_CURRENT, "children"), Input(STORE_COMPARE_RUN, "data"),
                  State(ids.TABS_PANELS, "value"), session, prevent_initial_call=True)
    def _compare_current(client_record, open_tab, sid):
        try:
            return current_row(store, client_record, sid, open_tab)
        except ControlError as exc:
            refused("runs table", str(exc), sid)
            raise PreventUpdate from None
        except StoreUnavailable:
            raise PreventUpdate from None  # the status line says so

    pins = guarded(lambda *a: pins_action(store, *a), "pins", 3, 2)

    @app.callback(
        Output(TBODY_PINS, "children"),
        Output(ids.GRAPH_CURVES, "figure", allow_duplicate=True),
        Output(TEXT_PIN_NOTE, "children"),
        Input(BUTTON_PIN, "n_clicks"),
        Input({"type": PIN_SHOW, "pin": ALL}, "n_clicks"),
        Input({"type": PIN_REMOVE, "pin": ALL}, "n_clicks"),
        tab, session,
        prevent_initial_call=True,
    )
    def _compare_pins(_pin, _show, _remove, open_tab, sid):
        trigger = _pins_trigger()
        if trigger is None:
            raise PreventUpdate
        return pins(trigger, sid, open_tab)

    plan = guarded(lambda *a: plan_sweep(store, *a), "sweep", 2, 1)

    @app.callback(
        Output(STORE_SWEEP_PLAN, "data"),
        Output(TEXT_SWEEP_NOTE, "children"),
        Input(BUTTON_SWEEP, "n_clicks"),
        State(ids.STORE_SESSION, "data"),
        State(DROPDOWN_SWEEP_LR, "value"),
        State(DROPDOWN_SWEEP_REG, "value"),
        State(INPUT_SWEEP_ITERATIONS, "value"),
        prevent_initial_call=True,
    )
    def _compare_plan(_clicks, sid, lrs, regs, iterations):
        return plan(sid, lrs, regs, iterations)

    @app.callback(
        Output(STORE_SWEEP, "data"),
        Output(TEXT_SWEEP_NOTE, "children", allow_duplicate=True),
        Input(STORE_SWEEP_PLAN, "data"),
        background=True,
        manager=manager,
        progress=[Output(PROGRESS_SWEEP, "value"), Output(PROGRESS_SWEEP, "max"),
                  Output(TEXT_SWEEP_PROGRESS, "children"), Output(STORE_SWEEP_LIVE, "data")],
        running=[(Output(BUTTON_SWEEP, "disabled"), True, False),
                 (Output(BUTTON_SWEEP_CANCEL, "disabled"), False, True)],
        cancel=[Input(BUTTON_SWEEP_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )
    def _compare_sweep(set_progress, plan_raw):
        return run_sweep(plan_raw, set_progress, runner)

    @app.callback(
        Output(GRAPH_SWEEP, "figure"),
        Input(STORE_SWEEP_LIVE, "data"),
        Input(STORE_SWEEP, "data"),
        Input(RADIO_SWEEP_METRIC, "value"),
        prevent_initial_call=True,
    )
    def _compare_heatmap(live, final, metric):
        try:
            return show_sweep(live, final, metric)
        except ControlError as exc:
            refused("sweep heatmap", str(exc))
            raise PreventUpdate from None

    @app.callback(
        Output(TEXT_SWEEP_NOTE, "children", allow_duplicate=True),
        Input(BUTTON_SWEEP_CANCEL, "n_clicks"),
        State(STORE_SWEEP_PLAN, "data"),
        State(STORE_SWEEP_LIVE, "data"),
        prevent_initial_call=True,
    )
    def _compare_cancelled(_clicks, plan_raw, live):
        try:
            return cancelled_note(plan_raw, live)
        except ControlError as exc:
            refused("sweep cancel", str(exc))
            raise PreventUpdate from None

    load = guarded(load_cell, "sweep cell", 3, 2)

    @app.callback(
        Output(ids.SLIDER_LR, "value", allow_duplicate=True),
        Output(ids.SLIDER_REG, "value", allow_duplicate=True),
        Output(TEXT_SWEEP_NOTE, "children", allow_duplicate=True),
        Input(GRAPH_SWEEP, "clickData"),
        prevent_initial_call=True,
    )
    def _compare_cell(click):
        return load(click)


def run_on_celery_with(celery_app):
    """The Celery runner for `celery_app` (run_on_celery with the app bound)."""
    def runner(tasks, on_cell):
        run_on_celery(celery_app, tasks, on_cell)
    return runner
