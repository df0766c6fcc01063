"""What the live panels of issue 7 share: when to redraw, how to patch, how to refuse.

Each live panel keeps a record of what it shows in a dcc.Store of its own (validated as
"shown": {"key", "sig", "it", "n", "t"}): `key` names what a whole redraw depends on (the run,
the view), `sig` what a live update does (the iteration, the selected row, lr and reg), `n`
the history points its curves hold, `t` the server's clock when it was drawn. `plan` turns it
into "full" (draw anew), "patch" (send only the values) or "skip" (nothing new, or a running
run whose panel was drawn less than THROTTLE_SECONDS ago: the tick's budget stays the tick's).
A run that stops always gets its last picture: its stopping tick finds it not running.

`live_gate` is the panels' live_inputs() with the hidden case decided in the browser: a
hidden panel that answers 204 still costs a request per tick, and three of them took ~15%
off the default tab's updates per second (bench/browser.py); gated, they cost nothing.
A panel declares its gate as `GATE = Gate(store, js, shown)` (`forward(tab, store)` for the
usual one), and panels.register_panels joins them all into ONE browser-side callback: six
separate gates, each a callback of Dash's renderer on every tick, cost the default tab ~10%
of its updates per second.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple

from dash import Input, Output, Patch, State, no_update

from .. import ids
from ..guards import refused
from ..layout import error_children

THROTTLE_SECONDS = 0.3  # by default a running run's panel is redrawn at most ~3 times a second


def plan(shown: dict | None, key: str, sig: str, running: bool, user: bool,
         now: float, every: float = THROTTLE_SECONDS) -> str:
    """"full", "patch" or "skip". `user`: the update was asked for (a tab opened, a row or
    a view chosen), not brought by a tick: it is never throttled. `every`: the panel's
    seconds between live updates while the run trains."""
    if not shown or shown.get("key") != key:
        return "full"
    if shown.get("sig") == sig:
        return "skip"
    if running and not user and 0 <= now - shown.get("t", 0.0) < every:
        return "skip"
    return "patch"


def record(key: str, sig: str, iteration: int, n: int = 0, now: float | None = None) -> dict:
    """The panel's new "shown" record."""
    return {"key": key, "sig": sig, "it": int(iteration), "n": int(n),
            "t": round(time.time() if now is None else now, 3)}


def is_running(session) -> bool:
    return not session.meta.get("paused", True) and not session.trainer.done


def to_patch(ops) -> Patch:
    """figures_inside's operations [(path, "assign" | "extend", value)] as a dash.Patch."""
    patch = Patch()
    for path, op, value in ops:
        target = patch
        for key in path[:-1]:
            target = target[key]
        if op == "assign":
            target[path[-1]] = value
        else:
            target[path[-1]].extend(value)
    return patch


def refusal(n_outputs: int, status_at: int, message: str, session, where: str) -> tuple:
    """A refused value: nothing changes but the status line, which says why (as the tick's
    refusals do), and one log line."""
    refused(where, message, session)
    out = [no_update] * n_outputs
    out[status_at] = error_children(message)
    return tuple(out)


def store_down(n_outputs: int, status_at: int, message: str) -> tuple:
    """The store (Redis) cannot be read: the status says so (the store logged it)."""
    out = [no_update] * n_outputs
    out[status_at] = error_children(message)
    return tuple(out)


class Gate(NamedTuple):
    """A panel's part of the browser-side gate: on every change of the page's run record (and
    of the open tab), `js` — function (record, tab[, shown]) — returns what to write into the
    panel's dcc.Store `store`, or window.dash_clientside.no_update; `shown`, a State, is
    passed as its third argument."""
    store: str
    js: str
    shown: State | None = None


_FORWARD_JS = """
function (record, tab) {
    // the page's run record, forwarded only while this panel's tab is open
    return tab === TAB ? record : window.dash_clientside.no_update;
}
"""


def forward(tab: str, store: str) -> Gate:
    """The usual gate: the page's run record into `store` while `tab` is open."""
    return Gate(store, _FORWARD_JS.replace("TAB", json.dumps(tab)))


def gate_js(gates) -> str:
    """One clientside function for all `gates`: its outputs in their order."""
    calls, states = [], 0
    for gate in gates:
        args = "record, tab" if gate.shown is None else f"record, tab, shown[{states}]"
        states += gate.shown is not None
        calls.append(f"({gate.js.strip()})({args})")
    return "function (record, tab, ...shown) {\n    return [\n        " \
        + ",\n        ".join(calls) + "\n    ];\n}"


def register_gates(app, gates) -> None:
    """The gates as one browser-side callback (one pass of Dash's renderer per tick)."""
    app.clientside_callback(
        gate_js(gates), [Output(g.store, "data") for g in gates],
        Input(ids.STORE_CLIENT, "data"), Input(ids.TABS_PANELS, "value"),
        [g.shown for g in gates if g.shown is not None], prevent_initial_call=True)


def live_gate(store_id: str) -> list:
    """The live inputs of a panel whose GATE writes `store_id`: [Input(that store: the
    page's run record, only while the tab is open), Input(the open tab), State(session)].
    The panel's layout holds dcc.Store(id=store_id, data={}); the server still checks the
    tab (showing) and validates the record (it can be forged like any value)."""
    return [Input(store_id, "data"), Input(ids.TABS_PANELS, "value"),
            State(ids.STORE_SESSION, "data")]
