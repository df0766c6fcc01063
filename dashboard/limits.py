"""Every cap the lab enforces, in one place; each one can be overridden from the environment.

    from dashboard.limits import LIMITS
    LIMITS.max_parameters            # 20000, or MLPLAB_MAX_PARAMETERS if set

The caps keep one class's shared server alive whatever a page (or a forged request) asks
for: the size of a network, the length of a run and of its curve, the work one update may
do, the number of live sessions and the memory each may hold, the size of a request. The
README's "Reliability" section lists them (its table is `limits_table()`, checked by a test).

Values are read once, when this module is imported (a server process's start). A value
that is not a number, or is outside the range shown in `_SPECS`, stops the start with a
`LimitError` naming the variable: an operator's typo must not quietly become "no limit".
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from mlpcore.config import MAX_HIDDEN_LAYERS as CORE_MAX_LAYERS
from mlpcore.config import MAX_HIDDEN_UNITS as CORE_MAX_UNITS
from mlpcore.config import MAX_ITERATIONS as CORE_MAX_ITERATIONS
from mlpcore.csvdata import MAX_CLASSES as CORE_MAX_CLASSES
from mlpcore.csvdata import MAX_COLUMNS as CORE_MAX_COLUMNS
from mlpcore.csvdata import MAX_CSV_BYTES as CORE_MAX_CSV_BYTES
from mlpcore.csvdata import MAX_ROWS as CORE_MAX_ROWS
from mlpcore.sweep import MAX_CELLS as CORE_MAX_CELLS

MIB = 1 << 20


class LimitError(ValueError):
    """An MLPLAB_* limit in the environment is malformed or out of range."""


@dataclass(frozen=True)
class _Spec:
    env: str
    kind: type  # int or float
    low: float
    high: float
    unit: str
    doc: str


# field name -> environment variable, type, allowed range, unit, what it caps
_SPECS = {
    "max_hidden_units": _Spec("MLPLAB_MAX_HIDDEN_UNITS", int, 1, CORE_MAX_UNITS, "units",
                              "hidden units per layer"),
    "max_hidden_layers": _Spec("MLPLAB_MAX_HIDDEN_LAYERS", int, 1, CORE_MAX_LAYERS, "layers",
                               "hidden layers"),
    "max_parameters": _Spec("MLPLAB_MAX_PARAMETERS", int, 10, 10**7, "",
                            "weights + biases of one network"),
    "max_parameter_rows": _Spec("MLPLAB_MAX_PARAMETER_ROWS", int, 1000, 10**10, "",
                                "work per iteration: parameters × training rows"),
    "max_iterations": _Spec("MLPLAB_MAX_ITERATIONS", int, 100, CORE_MAX_ITERATIONS, "",
                            "max iterations of a run"),
    "max_history_points": _Spec("MLPLAB_MAX_HISTORY_POINTS", int, 10, 10**6, "",
                                "points on a curve (max iterations ÷ display interval)"),
    "tick_seconds": _Spec("MLPLAB_TICK_SECONDS", float, 0.005, 5.0, "s",
                          "training time of one update, whatever speed or Step asks"),
    "max_sessions": _Spec("MLPLAB_MAX_SESSIONS", int, 1, 10**5, "",
                          "live sessions (least recently used dropped first)"),
    "session_idle_seconds": _Spec("MLPLAB_SESSION_IDLE_SECONDS", float, 1.0, 30 * 86400.0, "s",
                                  "idle time before a session expires"),
    "max_session_bytes": _Spec("MLPLAB_MAX_SESSION_BYTES", int, 64 * 1024, 1 << 30, "bytes",
                               "one session's serialised run"),
    "max_request_bytes": _Spec("MLPLAB_MAX_REQUEST_BYTES", int, 16 * 1024, 1 << 30, "bytes",
                               "one HTTP request body (larger: 413)"),
    "max_upload_bytes": _Spec("MLPLAB_MAX_UPLOAD_BYTES", int, 1024, 1 << 29, "bytes",
                              "an uploaded file, decoded"),
    "max_upload_rows": _Spec("MLPLAB_MAX_UPLOAD_ROWS", int, 4, 10**7, "",
                             "rows of an uploaded data set"),
    "max_upload_columns": _Spec("MLPLAB_MAX_UPLOAD_COLUMNS", int, 2, 10**4, "",
                                "columns of an uploaded data set (label included)"),
    # the CSV parser refuses more than its MAX_CLASSES whatever the limit says
    "max_classes": _Spec("MLPLAB_MAX_CLASSES", int, 2, CORE_MAX_CLASSES, "",
                         "classes of a data set"),
    "lock_lease_seconds": _Spec("MLPLAB_LOCK_LEASE_SECONDS", float, 0.5, 600.0, "s",
                                "lease of a session lock in Redis (a dead worker's expires)"),
    "lock_wait_seconds": _Spec("MLPLAB_LOCK_WAIT_SECONDS", float, 0.01, 60.0, "s",
                               "wait for a busy session before giving up (the page retries)"),
    "redis_timeout_seconds": _Spec("MLPLAB_REDIS_TIMEOUT_SECONDS", float, 0.05, 60.0, "s",
                                   "Redis connect and reply timeout"),
    "max_pins": _Spec("MLPLAB_MAX_PINS", int, 0, 20, "runs",
                      "pinned runs per session (Compare tab)"),
    "max_sweep_cells": _Spec("MLPLAB_MAX_SWEEP_CELLS", int, 1, CORE_MAX_CELLS, "cells",
                             "cells of one lr × reg sweep"),
    "sweep_timeout_seconds": _Spec("MLPLAB_SWEEP_TIMEOUT_SECONDS", float, 1.0, 86400.0, "s",
                                   "a sweep on Celery workers gives up after"),
}


@dataclass(frozen=True)
class Limits:
    """The caps. Defaults are sized for a class on one small server (2 cores, 1 GB)."""

    max_hidden_units: int = 64
    max_hidden_layers: int = 4
    max_parameters: int = 20_000  # 64 units x 4 layers on iris: 12,995
    max_parameter_rows: int = 5_000_000  # iris' 75 rows x 20,000 parameters: 1.5 M
    max_iterations: int = 20_000
    max_history_points: int = 20_000  # 20,000 iterations with a point every one
    tick_seconds: float = 0.1
    max_sessions: int = 200
    session_idle_seconds: float = 3600.0
    max_session_bytes: int = 4 * MIB  # the largest iris run (20,000 points): 1.2 MB
    max_request_bytes: int = 8 * MIB  # room for an upload; a tick sends ~2 KB
    # uploads: mlpcore/csvdata.py's caps are the defaults (the parser is given these values)
    max_upload_bytes: int = CORE_MAX_CSV_BYTES  # 5 MiB
    max_upload_rows: int = CORE_MAX_ROWS  # 20,000
    max_upload_columns: int = CORE_MAX_COLUMNS  # 50
    max_classes: int = CORE_MAX_CLASSES  # 20
    lock_lease_seconds: float = 3.0
    lock_wait_seconds: float = 1.0
    redis_timeout_seconds: float = 1.0
    max_pins: int = 5  # a pin keeps at most PIN_POINTS points per curve (dashboard/pins.py)
    max_sweep_cells: int = 64  # mlpcore.sweep.MAX_CELLS; 8 values per axis at most
    sweep_timeout_seconds: float = 600.0  # the largest iris sweep takes ~20 s on one core

    def __post_init__(self) -> None:
        for f in fields(self):
            spec, value = _SPECS[f.name], getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not spec.low <= value <= spec.high \
                    or (spec.kind is int and value != int(value)):
                raise LimitError(f"{spec.env} must be {_kind_words(spec)} from "
                                 f"{_fmt(spec.low)} to {_fmt(spec.high)}, got {value!r}")
            object.__setattr__(self, f.name, spec.kind(value))
        if self.max_request_bytes < self.max_upload_bytes * 4 // 3 + 64 * 1024:
            raise LimitError("MLPLAB_MAX_REQUEST_BYTES must leave room for an upload "
                             "(base64 adds a third): at least MLPLAB_MAX_UPLOAD_BYTES × 4/3 "
                             f"+ 64 KiB = {self.max_upload_bytes * 4 // 3 + 64 * 1024}")
        if self.max_iterations % 100:
            raise LimitError("MLPLAB_MAX_ITERATIONS must be a multiple of 100 (the slider's "
                             f"step), got {self.max_iterations}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with every MLPLAB_* variable that is set applied."""
        environ = os.environ if environ is None else environ
        values = {}
        for name, spec in _SPECS.items():
            raw = environ.get(spec.env)
            if raw is None or raw.strip() == "":
                continue
            try:
                number = float(raw.strip().replace("_", ""))
            except ValueError:
                raise LimitError(f"{spec.env} must be {_kind_words(spec)}, got {raw!r}") \
                    from None
            if spec.kind is int and number.is_integer():
                number = int(number)
            values[name] = number
        return cls(**values)


def _kind_words(spec: _Spec) -> str:
    return "a whole number" if spec.kind is int else "a number"


def _fmt(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    value = int(value)
    for size, unit in ((1 << 30, "GiB"), (MIB, "MiB"), (1024, "KiB")):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{value:,}"


def limits_table(limits: Limits | None = None) -> str:
    """The caps as a Markdown table (the README's, kept in step by a test)."""
    limits = limits or Limits()
    rows = ["| Limit | Default | Environment variable |", "|---|---|---|"]
    for f in fields(limits):
        spec = _SPECS[f.name]
        value = getattr(limits, f.name)
        shown = _fmt(value) if spec.unit in ("bytes", "") else f"{_fmt(value)} {spec.unit}"
        rows.append(f"| {spec.doc} | {shown} | `{spec.env}` |")
    return "\n".join(rows)


LIMITS = Limits.from_env()
