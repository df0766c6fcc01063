"""Inside the math: every quantity of the document's forward and backward pass (Op.[1]-[34])
for one training sample, or for the whole training set, with the live numbers; and the
gradient check, on demand.

The sample is chosen by number (1-based, as R counts), with the arrows, by clicking a
training point on the decision boundary (panels/boundary.py), or by clicking a cell of the
confusion matrix: then the inspector shows a training row whose true and predicted classes
are that cell's (the matrix counts the test set; the inspector explains training rows),
the next such row on every further click, or says there is none.

Live: the cards (formulas, typeset once) are drawn when the run or the view changes; every
update (at most every LIVE_EVERY seconds while the run trains) sends only their numbers, as
compact plain data that assets/inside.js writes into the cards' number blocks.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    ctx,
    dcc,
    html,
    no_update,
)
from dash.exceptions import PreventUpdate

from mlpcore import gradient_report
from mlpcore.anatomy import anatomy

from .. import ids, panels  # panels: its helpers at call time (it imports us first)
from ..figures import axis_labels, unit_names
from ..markup_inside import (
    View,
    gradcheck_block,
    inspector_cards,
    inspector_head,
    inspector_tables,
    pick_note,
)
from ..sessions import StoreUnavailable
from ..validation import ControlError, validate
from .throttle import forward, is_running, live_gate, plan, record, refusal, store_down

TAB = "inside"
LABEL = "Inside the math"

# Component ids (the row input and the pick store are shared with panels/boundary.py)
INPUT_ROW = "inspect-row-input"
BUTTON_PREV = "inspect-prev-button"
BUTTON_NEXT = "inspect-next-button"
RADIO_MODE = "inspect-mode-radio"
TEXT_ROWS = "inspect-rows-text"
DIV_HEAD = "inspect-head"
DIV_BODY = "inspect-body"
BUTTON_GRADCHECK = "gradcheck-button"
DIV_GRADCHECK = "gradcheck-result"
STORE_PICK = "inspect-pick-store"  # how the sample was picked (a click elsewhere)
STORE_SHOWN = "inspect-shown-store"  # what the cards show (throttle.plan)
STORE_TABLES = "inspect-tables-store"  # the cards' numbers (markup_inside.inspector_tables)
STORE_LIVE = "inspect-live-store"  # the run record, while this tab is open (live_gate)
GATE = forward(TAB, STORE_LIVE)  # panels.register_panels joins the gates
STORE_SCROLL = "inspect-scroll-store"  # output of the scroll-into-view script (unused)
STORE_FILL = "inspect-fill-store"  # the table script's output (unused); holds TAB for it
LIVE_EVERY = 1.0  # seconds between live updates while a run trains (numbers change fast)


class InspectResult(NamedTuple):
    head: object
    body: object
    tables: object
    shown: object
    row: object
    row_max: object
    rows_text: object
    status: object


N_OUTPUTS = len(InspectResult._fields)
STATUS_AT = InspectResult._fields.index("status")


def layout():
    return html.Div(className="panel-body inside", children=[
        html.Div(className="inside-controls", children=[
            html.Label("Training sample", htmlFor=INPUT_ROW, className="control-label"),
            html.Button("◀", id=BUTTON_PREV, className="button small", n_clicks=0,
                        title="previous sample"),
            dcc.Input(id=INPUT_ROW, type="number", value=1, min=1, step=1, debounce=0.4,
                      className="number row-input"),
            html.Button("▶", id=BUTTON_NEXT, className="button small", n_clicks=0,
                        title="next sample"),
            html.Span("", id=TEXT_ROWS, className="muted"),
            dcc.RadioItems(id=RADIO_MODE, value="sample", inline=True, className="radio",
                           options=[{"label": "this sample (N = 1)", "value": "sample"},
                                    {"label": "the whole training set (batch)",
                                     "value": "batch"}]),
            html.Button("Check gradients", id=BUTTON_GRADCHECK, className="button",
                        n_clicks=0, title="Compare backprop's gradients with numerical ones "
                        "(central differences) at the current parameters"),
        ]),
        html.Div("Click a training point on the decision boundary, or a cell of the "
                 "confusion matrix, to pick a sample.", className="control-hint"),
        dcc.Loading(html.Div(id=DIV_GRADCHECK), type="dot", delay_show=300),
        html.Div("The numbers appear with the run's first update.", id=DIV_HEAD,
                 className="inside-head"),
        html.Div(id=DIV_BODY, className="inside-body"),
        dcc.Store(id=STORE_PICK, data={}, storage_type="memory"),
        dcc.Store(id=STORE_SHOWN, data={}, storage_type="memory"),  # {}: nothing yet
        dcc.Store(id=STORE_LIVE, data={}, storage_type="memory"),
        dcc.Store(id=STORE_TABLES, data=None, storage_type="memory"),
        dcc.Store(id=STORE_SCROLL, data=None, storage_type="memory"),
        dcc.Store(id=STORE_FILL, data=TAB, storage_type="memory"),
    ])


# ---------------------------------------------------------------------------- callbacks
def _row(settings, trigger: str | None, n: int) -> int:
    """The 1-based sample to show: the input's (1 when empty), stepped by the arrows
    (wrapping around), at most n."""
    row = min(settings.inspect_row or 1, n)
    if trigger == BUTTON_PREV:
        row = row - 1 if row > 1 else n
    elif trigger == BUTTON_NEXT:
        row = row + 1 if row < n else 1
    return row


def _snapshot(s, row: int, batch: bool) -> tuple:
    """Everything the cards need, read while the session is locked: the anatomy (its
    parameter entries copied: they are live views of the run's buffer) and the names."""
    t, d = s.trainer, s.trainer.dataset
    anat = anatomy(t, rows=None if batch else row - 1)
    for e in anat["entries"]:
        if e["stage"] == "param":
            e["value"] = np.array(e["value"])
    units = unit_names(t.params, d.feature_names, d.class_names)
    return (anat, units, list(d.class_names), list(d.feature_names), d.name,
            d.y_train.tolist(), [int(i) for i in d.train_indices], t.iteration)


def update(store, trigger, client, tab, session, row, mode, pick, shown,
           now: float | None = None) -> InspectResult:
    """The inspector's live callback. `trigger`: the id that fired it (None: the page's
    run record)."""
    try:
        settings = validate({"client": client, "session": session, "inspect_row": row,
                             "inspect_mode": mode, "pick": pick, "shown": shown})
    except ControlError as exc:
        return InspectResult(*refusal(N_OUTPUTS, STATUS_AT, str(exc), session,
                                      "inspector input"))
    panels.showing(tab, TAB)
    now = time.time() if now is None else now
    batch = settings.inspect_mode == "batch"
    try:
        with panels.read_run(store, session) as s:
            n = len(s.trainer.dataset.y_train)
            r = _row(settings, trigger, n)
            key = f"{s.meta['run']}:{settings.inspect_mode}"
            sig = f"{s.trainer.iteration}:{r}:{s.trainer.config.lr!r}:{s.trainer.config.reg!r}"
            user = trigger not in (None, ids.STORE_CLIENT, STORE_LIVE)
            how = plan(settings.shown, key, sig, is_running(s), user, now, LIVE_EVERY)
            if how == "skip":
                raise PreventUpdate
            snap = _snapshot(s, r, batch)
    except StoreUnavailable as exc:
        return InspectResult(*store_down(N_OUTPUTS, STATUS_AT, str(exc)))
    anat, units, classes, features, data_name, labels, data_rows, iteration = snap
    view = View(anat, units, classes, r - 1, labels, data_rows)
    head = inspector_head(view, features, data_name, pick_note(settings.pick, r, classes))
    body = inspector_cards(anat) if how == "full" else no_update
    return InspectResult(
        head, body, inspector_tables(view), record(key, sig, iteration, now=now),
        r if r != settings.inspect_row else no_update, n, f"of {n}", no_update)


def check_gradients(store, session) -> tuple:
    """(the gradient check's markup, status) for the run's current parameters. The
    parameters and data are copied under the session's lock; the check runs after it."""
    try:
        settings = validate({"session": session})
    except ControlError as exc:
        return refusal(2, 1, str(exc), session, "gradient check")
    try:
        with panels.read_run(store, settings.session) as s:
            t = s.trainer
            params = {k: np.array(v) for k, v in t.params.items()}
            X, y = t.dataset.X_train, t.dataset.y_train
            activation, reg, iteration = t.config.activation, t.config.reg, t.iteration
    except StoreUnavailable as exc:
        return store_down(2, 1, str(exc))
    report = gradient_report(params, X, y, activation=activation, reg=reg)
    return gradcheck_block(report, iteration), no_update


def pick_from_confusion(store, click, session, row) -> tuple:
    """A click on a confusion-matrix cell (true class, predicted class): the next training
    row (after the current one, wrapping) that is that class and is predicted so now.
    Returns (row, tab, pick, status); with no such row the row stays and the pick says so."""
    try:
        settings = validate({"cell_click": click, "session": session, "inspect_row": row})
    except ControlError as exc:
        return refusal(4, 3, str(exc), session, "confusion-matrix click")
    if settings.cell_click is None:
        raise PreventUpdate
    true_name, pred_name = settings.cell_click
    try:
        with panels.read_run(store, settings.session) as s:
            d = s.trainer.dataset
            names = axis_labels(d.class_names)  # the click carries the matrix's own labels
            if true_name not in names or pred_name not in names:
                raise PreventUpdate  # a click on a matrix of an earlier run
            k, j = names.index(true_name), names.index(pred_name)
            predicted = s.trainer.predict(d.X_train)
            matches = np.flatnonzero((d.y_train == k) & (predicted == j))
    except StoreUnavailable as exc:
        return store_down(4, 3, str(exc))
    current = (settings.inspect_row or 1) - 1
    if not len(matches):
        pick = {"via": "confusion", "row": current + 1, "true": k, "pred": j, "found": False,
                "matches": 0}
        return no_update, TAB, pick, no_update
    after = matches[matches > current]
    chosen = int(after[0] if len(after) else matches[0]) + 1
    pick = {"via": "confusion", "row": chosen, "true": k, "pred": j, "found": True,
            "matches": len(matches)}
    return chosen, TAB, pick, no_update


# ------------------------------------------------------------------------------ wiring
_SCROLL_JS = """
function (pick) {
    // a sample picked elsewhere (a click on a figure): bring the panels into view
    setTimeout(function () {
        var el = document.getElementById("TABS_ID");
        var header = document.querySelector(".lab-header");  // sticky: keep clear of it
        if (!el) { return; }
        var top = el.getBoundingClientRect().top - (header ? header.offsetHeight : 0) - 8;
        window.scrollBy({top: top, behavior: "smooth"});
    }, 60);
    return window.dash_clientside.no_update;
}
""".replace("TABS_ID", ids.TABS_PANELS)


def register(app, store) -> None:
    @app.callback(
        Output(DIV_HEAD, "children"),
        Output(DIV_BODY, "children"),
        Output(STORE_TABLES, "data"),
        Output(STORE_SHOWN, "data"),
        Output(INPUT_ROW, "value"),
        Output(INPUT_ROW, "max"),
        Output(TEXT_ROWS, "children"),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        *live_gate(STORE_LIVE),
        Input(INPUT_ROW, "value"),
        Input(RADIO_MODE, "value"),
        Input(BUTTON_PREV, "n_clicks"),
        Input(BUTTON_NEXT, "n_clicks"),
        Input(STORE_PICK, "data"),
        State(STORE_SHOWN, "data"),
        prevent_initial_call=True,
    )
    def _inspector_update(client, tab, session, row, mode, _prev, _next, pick, shown):
        return update(store, ctx.triggered_id, client, tab, session, row, mode, pick, shown)

    @app.callback(
        Output(DIV_GRADCHECK, "children"),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Input(BUTTON_GRADCHECK, "n_clicks"),
        State(ids.STORE_SESSION, "data"),
        prevent_initial_call=True,
    )
    def _inspector_gradcheck(_clicks, session):
        return check_gradients(store, session)

    @app.callback(
        Output(INPUT_ROW, "value", allow_duplicate=True),
        Output(ids.TABS_PANELS, "value", allow_duplicate=True),
        Output(STORE_PICK, "data", allow_duplicate=True),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Input(ids.GRAPH_CONFUSION, "clickData"),
        State(ids.STORE_SESSION, "data"),
        State(INPUT_ROW, "value"),
        prevent_initial_call=True,
    )
    def _inspector_pick_cell(click, session, row):
        return pick_from_confusion(store, click, session, row)

    # the cards' numbers, written from the compact tables (assets/inside.js): on every
    # update, and when the tab opens again (its cards are mounted afresh, empty)
    app.clientside_callback(ClientsideFunction("inside", "tables"),
                            Output(STORE_FILL, "data"),
                            Input(STORE_TABLES, "data"),
                            Input(ids.TABS_PANELS, "value"),
                            State(STORE_FILL, "data"),
                            prevent_initial_call=True)
    app.clientside_callback(_SCROLL_JS, Output(STORE_SCROLL, "data"),
                            Input(STORE_PICK, "data"), prevent_initial_call=True)
