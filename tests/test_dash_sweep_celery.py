"""The sweep on Celery: a real `celery worker` (prefork, 2 processes) on a real redis-server,
both started here. The same 2x2 grid gives exactly the numbers of the default manager's way
(every cell in one process), and the page, on Dash's CeleryManager, shows them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import free_port, until
from test_dash_browser import graph
from test_dash_compare_browser import choose, open_tab, press, progress, set_iterations, text

from dashboard import ids
from dashboard.app import create_app
from dashboard.background import SweepCeleryManager, run_here, run_on_celery
from dashboard.figures import rounded
from dashboard.panels import compare
from dashboard.sessions import MemoryStore
from dashboard.tasks import celery_for
from mlpcore import Config, Trainer
from mlpcore.sweep import sweep

REPO = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.redis, pytest.mark.browser]


@pytest.fixture
def celery_worker(redis_server, tmp_path, monkeypatch):
    """`celery -A dashboard.tasks worker -c 2` on the test's redis-server; yields (broker URL,
    worker log path). Stopped (and its pool processes with it) after the test."""
    monkeypatch.setenv("MLPLAB_CELERY_BROKER", redis_server)
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard.tasks", "worker",
             "--pool=prefork", "--concurrency=2", "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"mlplab-test-{free_port()}@%h"],
            cwd=REPO, env={**os.environ, "MLPLAB_CELERY_BROKER": redis_server},
            stdout=out, stderr=subprocess.STDOUT)
    try:
        app = celery_for(redis_server)
        until(lambda: proc.poll() is None and app.control.ping(timeout=0.5), timeout=60,
              msg=lambda: f"the worker did not answer: {log.read_text()[-2000:]}")
        yield redis_server, log
    finally:
        children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None \
            else []
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        for child in children:  # the pool's processes, should the main one not stop them
            if child.is_running():
                child.kill()


def _plan(store, sid):
    plan, _note = compare.plan_sweep(store, sid, [compare.LR_VALUES.index(v) for v in (0.1, 1)],
                                     [compare.REG_VALUES.index(v) for v in (0.0, 0.001)], 300)
    return plan


def test_celery_gives_the_same_numbers_and_the_page_shows_them(celery_worker, dash_duo):
    broker, log = celery_worker
    # 1. the runners themselves: every cell a Celery task vs every cell in this process
    store = MemoryStore()
    sid = "0123456789abcdef0123456789abcdef"
    with store.session(sid, lambda: Trainer(Config.document().replace(seed=3))):
        pass
    plan = _plan(store, sid)
    local, _note = compare.run_sweep(plan, lambda _p: None, run_here)
    seen = []
    started = time.monotonic()
    remote, note = compare.run_sweep(
        plan, seen.append, lambda tasks, on_cell: run_on_celery(
            celery_for(broker), tasks, on_cell, timeout=60))
    assert note.startswith("Done: 4 cells") and time.monotonic() - started < 60
    for key in ("acc", "loss", "status", "done", "state"):
        assert remote[key] == local[key], key  # exactly: the same floats
    assert [p[0] for p in seen] == [0, 1, 2, 3, 4]

    # 2. the page on Dash's CeleryManager: the callback and its cells run on the worker
    app = create_app(MemoryStore())
    managers = [(cb.get("background") or {}).get("manager") for cb in app.callback_map.values()]
    assert any(isinstance(m, SweepCeleryManager) for m in managers)
    dash_duo.start_server(app, port=free_port())
    until(lambda: graph(dash_duo, ids.GRAPH_WEIGHTS), timeout=10)
    open_tab(dash_duo, "Compare")
    choose(dash_duo, compare.DROPDOWN_SWEEP_LR, {"0.1", "1"})
    choose(dash_duo, compare.DROPDOWN_SWEEP_REG, {"0", "0.001"})
    set_iterations(dash_duo, 300)
    press(dash_duo, compare.BUTTON_SWEEP)
    until(lambda: text(dash_duo, compare.TEXT_SWEEP_NOTE).startswith("Done: 4 cells"),
          timeout=60, msg=lambda: log.read_text()[-3000:])
    assert progress(dash_duo) == (4, 4)
    expected = sweep(Config.document(), [0.1, 1.0], [0.0, 0.001], 300)  # the page's run
    until(lambda: graph(dash_duo, compare.GRAPH_SWEEP)[0]["z"] == [
        [rounded(v, 4) for v in row] for row in expected.grid("test_accuracy")], timeout=5)
    worker = log.read_text()
    assert worker.count("Task mlplab.sweep_cell[") >= 8  # 4 cells for 1., 4 for the page
    assert "Task background_callback_" in worker and "succeeded" in worker
    assert dash_duo.get_logs() == []
