"""Panels: the tabs under the live figures, one module each.

A panel module has
    TAB: str                  the tab's value (stable; used in links and tests)
    LABEL: str                the tab's words
    layout() -> component     what the tab shows
    register(app, store)      its callbacks
    GATE: throttle.Gate       (optional) what the page's run record writes into the panel's
                              own store, decided in the browser: register_panels joins all
                              the gates into one clientside callback
Panels read the run, never train it. A panel that follows the run declares a GATE
(throttle.Gate: what the page's run record, updated on every tick, writes into the panel's
own store, decided in the browser: nothing while the tab is hidden); register_panels joins
every GATE into one clientside callback. The panel's callback takes
`throttle.live_gate(store)` (its store, the open tab, this tab's session id), returns early
with `showing(tab, PANEL_TAB)` when its tab is not the open one, and reads the session with
`read_run(store, session)`. Never take Input(ids.STORE_CLIENT) directly: that callback would
ask the server on every tick, hidden or not. Only the tick (callbacks.advance) writes the run.
"""

from __future__ import annotations

from contextlib import contextmanager

from dash import Input, State, dcc
from dash.exceptions import PreventUpdate

from .. import ids
from ..sessions import SessionBusy
from ..validation import validate
from . import boundary, compare, data, guide, health, inspector, share
from .throttle import register_gates

PANELS = (guide, data, compare, inspector, boundary, health, share)


def live_inputs() -> list:
    """[Input(the page's run record), Input(the open tab), State(the session id)]: the
    components a GATE reads; a panel's callback takes the last two (the record reaches it
    through its GATE's store, see the module's docstring)."""
    return [Input(ids.STORE_CLIENT, "data"), Input(ids.TABS_PANELS, "value"),
            State(ids.STORE_SESSION, "data")]


def showing(tab, panel_tab: str) -> None:
    """PreventUpdate unless `panel_tab` is the open tab: hidden panels cost nothing."""
    if tab != panel_tab:
        raise PreventUpdate


@contextmanager
def read_run(store, session):
    """The session (read-only) for a raw session id, or PreventUpdate when there is nothing
    to show yet (no run, a busy run: the next tick tries again). StoreUnavailable and
    ControlError pass through for the caller to put into words."""
    sid = validate({"session": session}).session
    try:
        with store.view(sid) as s:
            if s is None:
                raise PreventUpdate
            yield s
    except SessionBusy:
        raise PreventUpdate from None


def panel_tabs() -> dcc.Tabs:
    return dcc.Tabs(
        id=ids.TABS_PANELS, value=PANELS[0].TAB, className="panel-tabs",
        parent_className="panel-tabs-parent", content_className="panel-tab-content",
        children=[dcc.Tab(label=p.LABEL, value=p.TAB, children=p.layout(),
                          className="panel-tab", selected_className="panel-tab-selected")
                  for p in PANELS])


def register_panels(app, store) -> None:
    for panel in PANELS:
        panel.register(app, store)
    register_gates(app, [p.GATE for p in PANELS if hasattr(p, "GATE")])


__all__ = ["PANELS", "live_inputs", "panel_tabs",
           "read_run", "register_panels", "showing"]
