"""Where a sweep runs: the manager of the Compare tab's background callback, and its cells.

- Default: Dash's `DiskcacheManager`. The callback runs in a child process of the web server
  (one machine, no extra service); results and progress go through a diskcache directory
  (MLPLAB_SWEEP_CACHE_DIR, default <tmp>/mlplab-sweeps-<uid>; gunicorn's workers share it).
  The cells run one after another in that process.
- MLPLAB_CELERY_BROKER=redis://...: Dash's `CeleryManager` on that broker
  (dashboard/tasks.py). The callback runs on a Celery worker and sends every cell to the
  workers as its own task, so a sweep spreads over every worker on every machine; it needs
  at least two worker processes in all (the callback holds one while it waits).

Both run `mlpcore.sweep.sweep_cell` on the same JSON arguments (sweep_tasks), so the same grid
gives the same numbers on either. Cancel: the manager stops the callback (Diskcache kills its
process; Celery terminates its task and revokes the cells it sent).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

from dash import CeleryManager, DiskcacheManager

from mlpcore.sweep import sweep_cell

from .limits import LIMITS

CACHE_ENV = "MLPLAB_SWEEP_CACHE_DIR"
POLL_SECONDS = 0.1  # how often the Celery callback looks at its cells


def cell_task_id(job: str, k: int) -> str:
    """The Celery task id of cell k of the callback task `job` (so Cancel can revoke it)."""
    return f"{job}-cell-{k}"


class SweepCeleryManager(CeleryManager):
    """CeleryManager whose cancel also revokes the cells the callback sent."""

    def terminate_job(self, job):
        if job is None:
            return
        cells = [cell_task_id(str(job), k) for k in range(LIMITS.max_sweep_cells)]
        self.handle.control.revoke(cells, terminate=True)
        super().terminate_job(job)


def sweep_manager(environ=None):
    """The manager for the sweep's background callback (see the module docstring)."""
    environ = os.environ if environ is None else environ
    broker = environ.get("MLPLAB_CELERY_BROKER", "")
    if broker:
        from .tasks import celery_for

        return SweepCeleryManager(celery_for(broker))
    import diskcache

    folder = environ.get(CACHE_ENV) or os.path.join(
        tempfile.gettempdir(), f"mlplab-sweeps-{os.getuid()}")
    return DiskcacheManager(diskcache.Cache(folder), expire=3600)


def uses_celery(manager) -> bool:
    return isinstance(manager, CeleryManager)


# ------------------------------------------------------------------------------- cells
def run_here(tasks: list[dict], on_cell: Callable[[int, dict], None]) -> None:
    """Every cell in this process, in order (the Diskcache manager's child process)."""
    for k, kwargs in enumerate(tasks):
        on_cell(k, sweep_cell(**kwargs))


def run_on_celery(celery_app, tasks: list[dict], on_cell: Callable[[int, dict], None],
                  timeout: float | None = None) -> None:
    """Every cell as a Celery task (inside the callback's own task: its cells get ids from
    it, so Cancel can revoke them); on_cell(k, cell) as each one comes back, in any order.
    TimeoutError after `timeout` seconds (MLPLAB_SWEEP_TIMEOUT_SECONDS); RuntimeError if a
    cell failed."""
    from celery import current_task

    from .tasks import CELL_TASK

    timeout = LIMITS.sweep_timeout_seconds if timeout is None else timeout
    job = getattr(getattr(current_task, "request", None), "id", None) or os.urandom(8).hex()
    task = celery_app.tasks[CELL_TASK]
    results = {k: task.apply_async(kwargs=kwargs, task_id=cell_task_id(job, k))
               for k, kwargs in enumerate(tasks)}
    deadline = time.monotonic() + timeout
    try:
        while results:
            for k, result in list(results.items()):
                if not result.ready():
                    continue
                if not result.successful():
                    raise RuntimeError(f"sweep cell {k} failed on a worker: "
                                       f"{str(result.result)[:200]}")
                on_cell(k, result.result)
                result.forget()
                del results[k]
            if results and time.monotonic() > deadline:
                raise TimeoutError(f"the sweep's cells did not finish within {timeout:g} s "
                                   "(are the Celery workers running?)")
            if results:
                time.sleep(POLL_SECONDS)
    finally:
        if results:  # cut short: the rest need not run
            celery_app.control.revoke([r.id for r in results.values()], terminate=True)
