"""Decision boundary: the predicted class over two input features (the others held at their
training means; a 2-D data set is the plane itself), the training and test points on top.

Live but throttled: while the run trains, the field and the misclassified rings are patched
(never the whole figure) at most every LIVE_EVERY seconds. Clicking a training point opens it
in the inspector (panels/inspector.py).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from mlpcore import boundary_grid

from .. import ids, panels  # panels: its helpers at call time (it imports us first)
from ..figures_inside import boundary_figure, boundary_updates, default_features, ring_updates
from ..layout import GRAPH_CONFIG
from ..sessions import StoreUnavailable
from ..validation import ControlError, validate
from . import inspector
from .throttle import forward, is_running, live_gate, plan, record, refusal, store_down, to_patch

TAB = "boundary"
LABEL = "Decision boundary"
RESOLUTION = 60  # grid cells per axis (60 x 60: ~8 KB of field per live update on iris)

GRAPH_BOUNDARY = "boundary-graph"
DROPDOWN_X = "boundary-x-dropdown"
DROPDOWN_Y = "boundary-y-dropdown"
STORE_SHOWN = "boundary-shown-store"
STORE_LIVE = "boundary-live-store"  # the run record, while this tab is open (live_gate)
GATE = forward(TAB, STORE_LIVE)  # panels.register_panels joins the gates
LIVE_EVERY = 0.4  # seconds between live updates while a run trains


class BoundaryResult(NamedTuple):
    figure: object
    options_x: object
    value_x: object
    options_y: object
    value_y: object
    shown: object
    status: object


N_OUTPUTS = len(BoundaryResult._fields)
STATUS_AT = BoundaryResult._fields.index("status")


def layout():
    return html.Div(className="panel-body boundary", children=[
        html.Div(className="boundary-controls", children=[
            html.Label("x axis", htmlFor=DROPDOWN_X, className="control-label"),
            dcc.Dropdown(id=DROPDOWN_X, options=[], value=None, clearable=False,
                         searchable=False, className="feature-dropdown"),
            html.Label("y axis", htmlFor=DROPDOWN_Y, className="control-label"),
            dcc.Dropdown(id=DROPDOWN_Y, options=[], value=None, clearable=False,
                         searchable=False, className="feature-dropdown"),
            html.Span("Colour: the class the network predicts there (paler: less sure). "
                      "Circles: training rows (click one to see its math); diamonds: test "
                      "rows; a dark ring: misclassified.", className="control-hint"),
        ]),
        html.Div(dcc.Graph(id=GRAPH_BOUNDARY, className="graph",
                           figure={"data": [], "layout": {"uirevision": "boundary"}},
                           config=GRAPH_CONFIG),
                 className="boundary-plot"),
        dcc.Store(id=STORE_SHOWN, data={}, storage_type="memory"),  # {}: nothing yet
        dcc.Store(id=STORE_LIVE, data={}, storage_type="memory"),
    ])


# ---------------------------------------------------------------------------- callbacks
def _features(fx, fy, d) -> tuple[int, int]:
    """The chosen features, or the defaults (the two that separate the classes best) when
    none are chosen yet or the run's data does not have them; never the same twice."""
    D = d.n_features
    if D < 2:
        return 0, 0
    if fx is None or fy is None or fx >= D or fy >= D:
        return default_features(d.X_train, d.y_train, d.n_classes)
    if fx == fy:  # the other axis was chosen onto this one: move that one aside
        fy = next(k for k in range(D) if k != fx)
    return fx, fy


def update(store, trigger, client, tab, session, fx, fy, row, shown,
           now: float | None = None) -> BoundaryResult:
    try:
        settings = validate({"client": client, "session": session, "feature_x": fx,
                             "feature_y": fy, "inspect_row": row, "shown": shown})
    except ControlError as exc:
        return BoundaryResult(*refusal(N_OUTPUTS, STATUS_AT, str(exc), session,
                                       "decision boundary input"))
    panels.showing(tab, TAB)
    now = time.time() if now is None else now
    try:
        with panels.read_run(store, session) as s:
            d = s.trainer.dataset
            fi, fj = _features(settings.feature_x, settings.feature_y, d)
            selected = (settings.inspect_row or 1) - 1
            key = f"{s.meta['run']}:{fi}:{fj}"
            sig = f"{s.trainer.iteration}:{selected}"
            user = trigger not in (None, ids.STORE_CLIENT, STORE_LIVE)
            how = plan(settings.shown, key, sig, is_running(s), user, now, LIVE_EVERY)
            if how == "skip":
                raise PreventUpdate
            same_iteration = bool(settings.shown) and settings.shown["it"] == \
                s.trainer.iteration
            grid = boundary_grid(s.trainer, features=(fi, fj), resolution=RESOLUTION)
            names, iteration = list(d.feature_names), s.trainer.iteration
    except StoreUnavailable as exc:
        return BoundaryResult(*store_down(N_OUTPUTS, STATUS_AT, str(exc)))
    shown = record(key, sig, iteration, now=now)
    if how == "patch":
        ops = ring_updates(grid, selected) if same_iteration else \
            boundary_updates(grid, selected)
        return BoundaryResult(to_patch(ops), no_update, no_update, no_update, no_update,
                              shown, no_update)
    options = [{"label": n, "value": k} for k, n in enumerate(names)]
    one = len(names) < 2
    return BoundaryResult(boundary_figure(grid, selected), options, fi,
                          [] if one else options, None if one else fj, shown, no_update)


def pick_point(click) -> tuple:
    """A click on the boundary: a training point opens its row in the inspector.
    Returns (row, tab, pick, status)."""
    try:
        row = validate({"point_click": click}).point_click
    except ControlError as exc:
        return refusal(4, 3, str(exc), None, "decision boundary click")
    if row is None:  # a test point or the field
        raise PreventUpdate
    return row, inspector.TAB, {"via": "boundary", "row": row}, no_update


# ------------------------------------------------------------------------------ wiring
def register(app, store) -> None:
    @app.callback(
        Output(GRAPH_BOUNDARY, "figure"),
        Output(DROPDOWN_X, "options"),
        Output(DROPDOWN_X, "value"),
        Output(DROPDOWN_Y, "options"),
        Output(DROPDOWN_Y, "value"),
        Output(STORE_SHOWN, "data"),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        *live_gate(STORE_LIVE),
        Input(DROPDOWN_X, "value"),
        Input(DROPDOWN_Y, "value"),
        Input(inspector.INPUT_ROW, "value"),
        State(STORE_SHOWN, "data"),
        prevent_initial_call=True,
    )
    def _boundary_update(client, tab, session, fx, fy, row, shown):
        return update(store, ctx.triggered_id, client, tab, session, fx, fy, row, shown)

    @app.callback(
        Output(inspector.INPUT_ROW, "value", allow_duplicate=True),
        Output(ids.TABS_PANELS, "value", allow_duplicate=True),
        Output(inspector.STORE_PICK, "data", allow_duplicate=True),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Input(GRAPH_BOUNDARY, "clickData"),
        prevent_initial_call=True,
    )
    def _boundary_pick(click):
        return pick_point(click)
