"""The panel scaffold: read-only session views and the panels' shared helpers."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

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
