"""Training health: data loss and regularisation loss (their sum is the document's loss), the
share of dead ReLU units per layer, the update/weight ratio per weight matrix against the
healthy band around 1e-3, the gradient norms, and plain-language hints coloured by severity.
A diverged run shows the divergence explainer on top: the iteration, the first quantity that
became non-finite, the last finite loss and the learning rate to try.

Live but throttled like the other panels (throttle.py): the curves are extended and the bars'
values replaced by Patches; the hints and the explainer are small and sent whole.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from dash import Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from mlpcore import explain_divergence, health_hints
from mlpcore.health import health

from .. import ids, panels  # panels: its helpers at call time (it imports us first)
from ..figures_inside import (
    health_bars_figure,
    health_bars_updates,
    loss_split_figure,
    loss_split_updates,
)
from ..layout import GRAPH_CONFIG
from ..markup_inside import divergence_block, hints_block
from ..sessions import StoreUnavailable
from ..validation import ControlError, validate
from .throttle import forward, is_running, live_gate, plan, record, refusal, store_down, to_patch

TAB = "health"
LABEL = "Training health"

GRAPH_LOSS_SPLIT = "health-loss-graph"
GRAPH_BARS = "health-bars-graph"
DIV_HINTS = "health-hints"
DIV_DIVERGED = "health-diverged"
STORE_SHOWN = "health-shown-store"
STORE_LIVE = "health-live-store"  # the run record, while this tab is open (live_gate)
GATE = forward(TAB, STORE_LIVE)  # panels.register_panels joins the gates
LIVE_EVERY = 1.0  # seconds between live updates while a run trains (two Plotly redraws each)


class HealthResult(NamedTuple):
    loss: object
    bars: object
    hints: object
    diverged: object
    shown: object
    status: object


N_OUTPUTS = len(HealthResult._fields)
STATUS_AT = HealthResult._fields.index("status")


def layout():
    empty = {"data": [], "layout": {"uirevision": "health"}}
    return html.Div(className="panel-body health", children=[
        html.Div(id=DIV_DIVERGED),
        html.Div("The hints appear with the run's first update.", id=DIV_HINTS,
                 className="health-hints"),
        html.Div(className="health-graphs", children=[
            html.Div(dcc.Graph(id=GRAPH_LOSS_SPLIT, figure=empty, className="graph",
                               config=GRAPH_CONFIG),
                     className="health-plot"),
            html.Div(dcc.Graph(id=GRAPH_BARS, figure=empty, className="graph",
                               config=GRAPH_CONFIG),
                     className="health-plot"),
        ]),
        dcc.Store(id=STORE_SHOWN, data={}, storage_type="memory"),  # {}: nothing yet
        dcc.Store(id=STORE_LIVE, data={}, storage_type="memory"),
    ])


def update(store, trigger, client, tab, session, shown,
           now: float | None = None) -> HealthResult:
    try:
        settings = validate({"client": client, "session": session, "shown": shown})
    except ControlError as exc:
        return HealthResult(*refusal(N_OUTPUTS, STATUS_AT, str(exc), session,
                                     "training health input"))
    panels.showing(tab, TAB)
    now = time.time() if now is None else now
    try:
        with panels.read_run(store, session) as s:
            t = s.trainer
            key = s.meta["run"]
            sig = f"{t.iteration}:{t.config.lr!r}:{t.config.reg!r}:{t.status}"
            user = trigger not in (None, ids.STORE_CLIENT, STORE_LIVE)
            how = plan(settings.shown, key, sig, is_running(s), user, now, LIVE_EVERY)
            n = len(t.history)
            if how == "patch" and settings.shown["n"] > n:
                how = "full"  # cannot happen within a run; draw anew rather than guess
            if how == "skip":
                raise PreventUpdate
            since = settings.shown["n"] if how == "patch" else 0
            report = health(t, since=since)
            hints = health_hints(t, report)
            why = explain_divergence(t)
            iteration = t.iteration
    except StoreUnavailable as exc:
        return HealthResult(*store_down(N_OUTPUTS, STATUS_AT, str(exc)))
    if how == "full":
        loss, bars = loss_split_figure(report["history"]), health_bars_figure(report)
    else:
        loss = to_patch(loss_split_updates(report["history"])) if n > since else no_update
        bars = to_patch(health_bars_updates(report))
    # a diverged run: the explainer says it all (its one hint would repeat its message)
    return HealthResult(loss, bars, [] if why else hints_block(hints),
                        divergence_block(why) if why else [],
                        record(key, sig, iteration, n, now=now), no_update)


def register(app, store) -> None:
    @app.callback(
        Output(GRAPH_LOSS_SPLIT, "figure"),
        Output(GRAPH_BARS, "figure"),
        Output(DIV_HINTS, "children"),
        Output(DIV_DIVERGED, "children"),
        Output(STORE_SHOWN, "data"),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        *live_gate(STORE_LIVE),
        State(STORE_SHOWN, "data"),
        prevent_initial_call=True,
    )
    def _health_update(client, tab, session, shown):
        return update(store, ctx.triggered_id, client, tab, session, shown)
