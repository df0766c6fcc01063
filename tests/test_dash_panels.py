"""The panel scaffold: read-only session views and the panels' shared helpers."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.panels import PANELS, read_run, showing
from dashboard.sessions import MemoryStore, RedisStore, SessionBusy
from mlpcore import Config, Trainer

SID = "0123456789abcdef0123456789abcdef"


def _new():
    return Trainer(Config.document())


def _stores(redis_url):
    return [MemoryStore(), RedisStore(redis_url, prefix="test-panels:")]


def test_view_never_creates_and_never_saves(redis_server):
    for store in _stores(redis_server):
        with store.view(SID) as s:
            assert s is None  # nothing made for an unknown id
        with store.session(SID, _new) as s:
            s.trainer.step(50)
            s.meta["note"] = "saved"
        with store.view(SID) as s:
            assert s.trainer.iteration == 50 and s.meta["note"] == "saved"
            s.meta["note"] = "changed by a reader"
        with store.session(SID, _new) as s:
            assert s.meta["note"] == "saved", type(store).__name__
            assert s.trainer.iteration == 50 and not s.is_new


def test_memory_view_waits_for_the_session_lock():
    store = MemoryStore(lock_timeout=0.05)
    with store.session(SID, _new):
        with store.view(SID) as s:
            assert s is None  # a new session is seen once it is saved
    with store.session(SID, _new):
        with pytest.raises(SessionBusy), store.view(SID):
            pass


def test_read_run_prevents_update_for_no_run_and_busy_runs():
    store = MemoryStore(lock_timeout=0.05)
    with pytest.raises(PreventUpdate), read_run(store, SID):
        pass
    with store.session(SID, _new):
        pass
    with store.session(SID, _new):
        with pytest.raises(PreventUpdate), read_run(store, SID):
            pass
    with read_run(store, SID) as s:
        assert s.trainer.iteration == 0


def test_read_run_refuses_a_malformed_session_id():
    with pytest.raises(ValueError), read_run(MemoryStore(), "../../etc/passwd"):
        pass


def test_showing_only_the_open_tab():
    showing("guide", "guide")
    with pytest.raises(PreventUpdate):
        showing("other", "guide")


def test_every_panel_has_the_interface():
    tabs = [p.TAB for p in PANELS]
    assert len(set(tabs)) == len(tabs)
    for panel in PANELS:
        assert panel.LABEL and callable(panel.layout) and callable(panel.register)
        assert panel.layout() is not None


def _tick_callbacks(app) -> list[dict]:
    """The app's callbacks that the page's run record (written on every tick) triggers."""
    client = app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if any(i["id"] == ids.STORE_CLIENT for i in d["inputs"])]


def test_one_browser_side_gate_feeds_every_live_panel():
    """A tick triggers one clientside callback, however many panels follow the run (each
    further callback is another pass of Dash's renderer on every update), and a second app
    in the same process does not register it twice."""
    from dashboard.app import create_app

    create_app(MemoryStore())
    for app in (create_app(MemoryStore()), create_app(MemoryStore())):
        gated = _tick_callbacks(app)
        assert len(gated) == 1, [d["output"] for d in gated]
        assert gated[0].get("clientside_function"), "the gate runs in the browser"
        stores = {p.GATE.store for p in PANELS if hasattr(p, "GATE")}
        assert len(stores) >= 6
        assert set(gated[0]["output"].strip(".").split("...")) == {f"{s}.data" for s in stores}


def test_gate_js_passes_each_panel_its_own_shown_state():
    from dash import State

    from dashboard.panels.throttle import Gate, forward, gate_js

    js = gate_js([forward("a", "sa"), Gate("sb", "function (r, t, s) { return s; }",
                                            State("x", "data")),
                  Gate("sc", "function (r, t, s) { return s; }", State("y", "data"))])
    assert js.startswith("function (record, tab, ...shown)")
    assert "(record, tab)," in js and "(record, tab, shown[0])" in js
    assert "(record, tab, shown[1])" in js and 'tab === "a"' in js


def test_every_app_gets_its_own_callbacks_once():
    """Callbacks registered on the global list (dash.clientside_callback) go to whichever
    app serves first, and twice to it when two apps are made: every app must get each of
    its callbacks exactly once."""
    from dashboard.app import create_app

    outputs = []
    apps = [create_app(MemoryStore()), create_app(MemoryStore())]  # both made, then served
    for app in apps:
        client = app.server.test_client()
        client.get("/")
        deps = client.get("/_dash-dependencies").get_json()
        names = [d["output"] for d in deps]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
        outputs.append(sorted(names))
    assert outputs[0] == outputs[1]
    assert any("inspect-fill-store" in n for n in outputs[0])  # the inspector's clientside
