"""Every value a callback receives from the browser passes through `validate()` here.

Callback inputs can be forged over HTTP, so nothing is trusted: each value is checked for
type, finiteness and bounds, and turned into the setting it stands for (a slider position
into a learning rate, say). Bad input gives a `ControlError` whose message is plain English
and names the control. The ranges and defaults of the controls live here too, so the layout
and the checks cannot disagree. Keep this the single place (issue 6 hardens it further).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from mlpcore import ACTIVATIONS


def _log_values(first_exp: int, last_exp: int) -> tuple[float, ...]:
    """1, 1.5, 2, 3, 5, 7 per decade from 10^first_exp up to 10^last_exp, as exact decimals."""
    steps = ("1", "1.5", "2", "3", "5", "7")
    values = [float(f"{m}e{e}") for e in range(first_exp, last_exp) for m in steps]
    return (*values, float(f"1e{last_exp}"))


# The controls' scales. Sliders with a log scale move over positions 0..len-1 of a list.
LR_VALUES = _log_values(-4, 1)  # 1e-4 ... 10
REG_VALUES = (0.0, *_log_values(-6, 0))  # 0, then 1e-6 ... 1
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)  # None: as fast as possible
HIDDEN_RANGE = (1, 64)
LAYERS_RANGE = (1, 4)
MAXIT_RANGE = (100, 20000)
MAXIT_STEP = 100
SEED_RANGE = (0, 2**31 - 1)
DISPLAY_RANGE = (1, 5000)
ACTIVATION_NAMES = tuple(ACTIVATIONS)
CURVE_OPTIONS = ("train_acc", "test_loss")
MAX_POINTS = 10**6  # a page can never hold more history points than this
MAX_ITERATION = 10**9

# The document's run (main.R): the values "Document settings" puts on the controls.
DOCUMENT = {
    "hidden": 6, "layers": 1, "lr": LR_VALUES.index(0.01), "reg": REG_VALUES.index(0.001),
    "maxit": 3000, "seed": 1, "display": 50, "activation": "relu",
}
DEFAULTS = {**DOCUMENT, "speed": SPEEDS.index(50), "curves": []}

_HEX_ID = re.compile(r"[0-9a-f]{32}")


class ControlError(ValueError):
    """A control value that cannot be used; str(error) is a sentence for the user."""


@dataclass(frozen=True)
class Settings:
    """Validated settings. Only the controls that were given are set; the rest are None."""

    session: str | None = None
    client_run: str | None = None
    client_points: int | None = None
    client_iteration: int | None = None
    hidden: int | None = None
    layers: int | None = None
    lr: float | None = None
    reg: float | None = None
    maxit: int | None = None
    seed: int | None = None
    display: int | None = None
    activation: str | None = None
    speed: int | None = None  # iterations per update; 0 means as fast as possible
    curves: tuple[str, ...] | None = None


def _integer(name: str, raw, low: int, high: int) -> int:
    """An integer in [low, high]; integral floats (6.0) pass, bools and strings do not."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ControlError(f"{name} must be a whole number from {low} to {high}.")
    if isinstance(raw, float) and not (math.isfinite(raw) and raw.is_integer()):
        raise ControlError(f"{name} must be a whole number from {low} to {high}.")
    value = int(raw)
    if not low <= value <= high:
        raise ControlError(f"{name} must be from {low} to {high}; got {value}.")
    return value


def _position(name: str, raw, values: tuple) -> int:
    return _integer(f"{name} (slider position)", raw, 0, len(values) - 1)


def _hex_id(name: str, raw) -> str:
    if not isinstance(raw, str) or not _HEX_ID.fullmatch(raw):
        raise ControlError(f"{name} is not a valid id; reload the page.")
    return raw


def _client(raw) -> tuple[str | None, int, int]:
    """The page's record of what it shows: {"run": run id or None, "n": history points,
    "it": iteration}."""
    if not isinstance(raw, Mapping) or set(raw) - {"run", "n", "it"}:
        raise ControlError("The page's record of the run is malformed; reload the page.")
    run = raw.get("run")
    run = None if run is None else _hex_id("The page's run id", run)
    return (run, _integer("The page's point count", raw.get("n", 0), 0, MAX_POINTS),
            _integer("The page's iteration", raw.get("it", 0), 0, MAX_ITERATION))


def _maxit(raw) -> int:
    value = _integer("Max iterations", raw, *MAXIT_RANGE)
    if value % MAXIT_STEP:
        raise ControlError(f"Max iterations must be a multiple of {MAXIT_STEP}.")
    return value


def _activation(raw) -> str:
    if raw not in ACTIVATION_NAMES:
        raise ControlError(f"Activation must be one of {', '.join(ACTIVATION_NAMES)}.")
    return raw


def _curves(raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or any(v not in CURVE_OPTIONS for v in raw):
        raise ControlError(f"Curve options must be among {', '.join(CURVE_OPTIONS)}.")
    return tuple(v for v in CURVE_OPTIONS if v in raw)


_CHECKS = {
    "hidden": lambda v: _integer("Hidden units", v, *HIDDEN_RANGE),
    "layers": lambda v: _integer("Hidden layers", v, *LAYERS_RANGE),
    "lr": lambda v: LR_VALUES[_position("Learning rate", v, LR_VALUES)],
    "reg": lambda v: REG_VALUES[_position("Regularisation", v, REG_VALUES)],
    "maxit": _maxit,
    "seed": lambda v: _integer("Seed", v, *SEED_RANGE),
    "display": lambda v: _integer("Display interval", v, *DISPLAY_RANGE),
    "activation": _activation,
    "speed": lambda v: SPEEDS[_position("Speed", v, SPEEDS)] or 0,
    "curves": _curves,
    "session": lambda v: _hex_id("The session id", v),
}


def validate(raw: Mapping[str, object]) -> Settings:
    """Turn raw control values into Settings, or raise ControlError (first problem found).

    Keys: hidden, layers, maxit, seed, display (numbers); lr, reg, speed (slider positions
    on LR_VALUES, REG_VALUES, SPEEDS); activation (a name); curves (a list of options);
    session (the tab's id); client (the page's record, see _client).
    """
    known = {f.name for f in fields(Settings)} | {"client"}
    unknown = set(raw) - known
    if unknown:
        raise ControlError(f"Unknown control(s): {', '.join(sorted(map(str, unknown)))}.")
    values = {}
    for key, value in raw.items():
        if key == "client":
            (values["client_run"], values["client_points"],
             values["client_iteration"]) = _client(value)
        elif key in _CHECKS:
            values[key] = _CHECKS[key](value)
        else:
            raise ControlError(f"{key} cannot be set from the page.")
    return Settings(**values)
