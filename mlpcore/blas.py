"""Keep BLAS single-threaded while the trainer runs on large blocks.

OpenBLAS splits any matmul above roughly M*N*K = 2^18 over its threads; on the thin
matrices of these networks the hand-offs cost more than they save (10x slower was measured
on the 2-core machine). The engine runs its own two threads over row tiles instead. This
uses threadpoolctl when it is installed (scikit-learn depends on it); without it, nothing
changes. The limit is process-wide for the duration of one Trainer.step() call.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

__all__ = ["single_threaded_blas"]

_LOCK = threading.Lock()
_STATE = {"controller": None, "tried": False, "depth": 0, "saved": None}


def _controllers():
    if not _STATE["tried"]:
        _STATE["tried"] = True
        try:
            from threadpoolctl import ThreadpoolController

            _STATE["controller"] = [c for c in ThreadpoolController().lib_controllers
                                    if c.user_api == "blas"]
        except Exception:  # not installed or unusual libraries: leave BLAS alone
            _STATE["controller"] = []
    return _STATE["controller"]


@contextmanager
def single_threaded_blas(enabled: bool = True):
    """Within the block, BLAS libraries use one thread (nested uses are counted)."""
    if not enabled:
        yield
        return
    with _LOCK:
        libs = _controllers()
        if _STATE["depth"] == 0 and libs:
            _STATE["saved"] = [lib.num_threads for lib in libs]
            for lib in libs:
                lib.set_num_threads(1)
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0 and libs:
                for lib, n in zip(libs, _STATE["saved"], strict=True):
                    lib.set_num_threads(n)
