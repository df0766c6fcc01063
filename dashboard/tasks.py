"""Celery: the app a sweep's background callback and its cells run on (optional).

Used only when MLPLAB_CELERY_BROKER is set (e.g. redis://127.0.0.1:6379/1). Then the Compare
tab's sweep runs as a Dash background callback on Celery (dashboard/background.py), and the
callback spreads the grid over the workers, one `mlplab.sweep_cell` task per cell
(mlpcore.sweep.sweep_cell: JSON arguments, JSON result, the same numbers on any machine).
Start workers, on this machine or others that reach the broker:

    MLPLAB_CELERY_BROKER=redis://127.0.0.1:6379/1 \\
      .venv/bin/celery -A dashboard.tasks worker --concurrency 2 --loglevel INFO

A worker imports dashboard.app (the `imports` setting), so it knows the page's background
callback as a task. Everything is JSON (no pickle): tasks, results, the callback's output.
"""

from __future__ import annotations

import os

from celery import Celery

from mlpcore.sweep import sweep_cell

BROKER_ENV = "MLPLAB_CELERY_BROKER"
CELL_TASK = "mlplab.sweep_cell"
_APPS: dict[str, Celery] = {}  # one Celery handle per broker URL in this process


def _cell(**kwargs) -> dict:
    """One grid cell (mlpcore.sweep.sweep_cell, which checks its arguments itself)."""
    return sweep_cell(**kwargs)


def make_celery(broker: str) -> Celery:
    """A Celery app on `broker` (also its result backend, which Dash's CeleryManager needs)."""
    app = Celery("mlplab", broker=broker, backend=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"], result_expires=3600,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        worker_prefetch_multiplier=1,  # a long cell must not hold back the next ones
        imports=("dashboard.app",),  # the background callback's task (see the docstring)
    )
    app.task(name=CELL_TASK)(_cell)
    return app


def celery_for(broker: str) -> Celery:
    """The Celery app for `broker`, made once per process."""
    if broker not in _APPS:
        _APPS[broker] = make_celery(broker)
    return _APPS[broker]


def __getattr__(name: str):
    """`celery -A dashboard.tasks` asks for `app`: the app on MLPLAB_CELERY_BROKER."""
    if name in ("app", "celery_app"):
        broker = os.environ.get(BROKER_ENV, "")
        if not broker:
            raise RuntimeError(f"Set {BROKER_ENV} (e.g. redis://127.0.0.1:6379/1) for the web "
                               "server and for every worker: celery -A dashboard.tasks worker")
        return celery_for(broker)
    raise AttributeError(name)
