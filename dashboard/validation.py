"""Every value a callback receives from the browser passes through `validate()` here.

Callback inputs can be forged over HTTP, so nothing is trusted: each value is checked for
type, finiteness and bounds, and turned into the setting it stands for (a slider position
into a learning rate, say). Bad input gives a `ControlError` whose message is plain English
and names the control. The ranges and defaults of the controls live here too, so the layout
and the checks cannot disagree; their tops, and every other cap, come from `limits.py`.

Three layers, outermost first:
- `check_callback_request(body, callback_map)`: the envelope of a POST to
  /_dash-update-component (output, outputs, inputs, state) must be what Dash's renderer
  sends for a registered callback; guards.py answers 400 otherwise, before Dash sees it;
- `validate(raw)`: each control value (type, finiteness, bounds) -> Settings;
- `check_run(config, shape)`: the run those settings make must fit the limits (parameters,
  work per iteration, points on the curve, memory of the session).
Uploads plug in with `decode_upload(contents)` and `check_data_shape(shape)`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from mlpcore import ACTIVATIONS, Config

from .limits import LIMITS, Limits


def _log_values(first_exp: int, last_exp: int) -> tuple[float, ...]:
    """1, 1.5, 2, 3, 5, 7 per decade from 10^first_exp up to 10^last_exp, as exact decimals."""
    steps = ("1", "1.5", "2", "3", "5", "7")
    values = [float(f"{m}e{e}") for e in range(first_exp, last_exp) for m in steps]
    return (*values, float(f"1e{last_exp}"))


# The controls' scales. Sliders with a log scale move over positions 0..len-1 of a list.
LR_VALUES = _log_values(-4, 1)  # 1e-4 ... 10
REG_VALUES = (0.0, *_log_values(-6, 0))  # 0, then 1e-6 ... 1
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)  # None: as fast as possible
HIDDEN_RANGE = (1, LIMITS.max_hidden_units)  # 1-64 by default
LAYERS_RANGE = (1, LIMITS.max_hidden_layers)  # 1-4
MAXIT_RANGE = (100, LIMITS.max_iterations)  # 100-20000
MAXIT_STEP = 100
SEED_RANGE = (0, 2**31 - 1)
DISPLAY_RANGE = (1, 5000)
ACTIVATION_NAMES = tuple(ACTIVATIONS)
CURVE_OPTIONS = ("train_acc", "test_loss")
MAX_POINTS = LIMITS.max_history_points  # a page can never hold more history points
MAX_ITERATION = LIMITS.max_iterations

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
        got = f"{value}" if abs(value) < 10**12 else f"{float(value):.3g}"
        raise ControlError(f"{name} must be from {low} to {high}; got {got}.")
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
    if not isinstance(raw, str) or raw not in ACTIVATION_NAMES:
        raise ControlError(f"Activation must be one of {', '.join(ACTIVATION_NAMES)}.")
    return raw


def _curves(raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or len(raw) > 2 * len(CURVE_OPTIONS) \
            or any(not isinstance(v, str) or v not in CURVE_OPTIONS for v in raw):
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


# ------------------------------------------------------------------------- the run's size
@dataclass(frozen=True)
class DataShape:
    """What a run's size depends on in its data: features D, classes K, training and test
    rows, and the bytes of its feature, class and set names (they go into a saved run)."""

    n_features: int
    n_classes: int
    n_train: int
    n_test: int
    name_bytes: int = 0


# iris with the document's split (mlpcore.load_iris + document_split): 4 features,
# 3 classes, 75 + 75 rows
IRIS = DataShape(4, 3, 75, 75, name_bytes=len("iris Sepal.Length Sepal.Width Petal.Length "
                                              "Petal.Width setosa versicolor virginica"))


def parameter_count(n_features: int, hidden, n_classes: int) -> int:
    """Weights and biases of a network D -> hidden... -> K."""
    sizes = [n_features, *hidden, n_classes]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def session_bytes(config: Config, shape: DataShape = IRIS) -> int:
    """An upper bound of len(Trainer(config, data).to_bytes()) at any point of the run: the
    parameters, the data set (X, y and row numbers), the generator, a history point per
    display step, and the JSON header (see mlpcore/serialize.py)."""
    rows = shape.n_train + shape.n_test
    params = parameter_count(shape.n_features, config.hidden, shape.n_classes)
    points = config.maxit // config.display
    arrays = 8 * (params + rows * (shape.n_features + 2) + 7 * points) + 4 * 624
    return 8192 + 6 * shape.name_bytes + 64 * shape.n_features + arrays + 9 * 8


def check_run(config: Config, shape: DataShape = IRIS, limits: Limits = LIMITS) -> Config:
    """The run `config` makes on data of `shape` must fit the limits; returns config, or
    raises ControlError saying which limit and what to change."""
    params = parameter_count(shape.n_features, config.hidden, shape.n_classes)
    if params > limits.max_parameters:
        raise ControlError(
            f"This network would have {params:,} weights and biases; the limit is "
            f"{limits.max_parameters:,}. Use fewer hidden units or layers.")
    if params * shape.n_train > limits.max_parameter_rows:
        raise ControlError(
            f"This network is too big to train live on {shape.n_train:,} rows ({params:,} "
            f"weights × {shape.n_train:,} rows; the limit is {limits.max_parameter_rows:,}). "
            f"Use fewer hidden units or layers.")
    points = config.maxit // config.display
    if points > limits.max_history_points:
        least = -(-config.maxit // limits.max_history_points)
        raise ControlError(
            f"A point every {config.display} of {config.maxit} iterations makes {points:,} "
            f"points; the limit is {limits.max_history_points:,}. Use a display interval of "
            f"at least {least}.")
    size = session_bytes(config, shape)
    if size > limits.max_session_bytes:
        raise ControlError(
            f"This run would need about {size / 2**20:.1f} MB on the server; the limit is "
            f"{limits.max_session_bytes / 2**20:.1f} MB per session. Use a larger display "
            f"interval, fewer iterations or a smaller network.")
    return config


def check_data_shape(shape: DataShape, limits: Limits = LIMITS) -> DataShape:
    """An uploaded data set's size must fit the upload caps; ControlError otherwise."""
    for what, value, cap in (("rows", shape.n_train + shape.n_test, limits.max_upload_rows),
                             ("feature columns", shape.n_features, limits.max_upload_columns),
                             ("classes", shape.n_classes, limits.max_classes)):
        if value > cap:
            raise ControlError(f"The data set has {value:,} {what}; the limit is {cap:,}.")
    return shape


def decode_upload(contents, limits: Limits = LIMITS) -> bytes:
    """dcc.Upload's `contents` ("data:<type>;base64,<data>") -> the file's bytes. The size is
    checked on the encoded text, before anything is decoded; ControlError if malformed."""
    head, comma, data = contents.partition(",") if isinstance(contents, str) else ("", "", "")
    if not comma or not head.startswith("data:") or not head.endswith(";base64") \
            or len(head) > 200:
        raise ControlError("The upload is not a file as a browser sends it; choose it again.")
    cap = limits.max_upload_bytes
    if len(data) > 4 * (-(-cap // 3)):
        raise ControlError(f"The file is larger than the limit of {cap / 2**20:.1f} MB.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError("The upload is damaged (not valid base64); choose it again.") \
            from None


# ------------------------------------------------------------------ the request envelope
class RequestError(ControlError):
    """A callback request that is not what Dash's renderer sends (answered with 400)."""


def _dependency(item, cid, prop: str, where: str) -> None:
    """One {"id", "property"[, "value"]} entry of a request, against the registered one."""
    if isinstance(cid, dict):  # a pattern-matching id: one dict, or a list of them (ALL)
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(i, dict) and isinstance(i.get("id"), dict)
                   and isinstance(i.get("property"), str)
                   and i["property"].split("@")[0] == prop for i in items):
            raise RequestError(f"an entry of {where} does not match the callback")
        return
    if not isinstance(item, dict) or item.get("id") != cid \
            or not isinstance(item.get("property"), str) \
            or item["property"].split("@")[0] != prop:
        raise RequestError(f"an entry of {where} does not match the callback")


def check_callback_request(body, callback_map: Mapping) -> None:
    """`body` (a parsed POST to /_dash-update-component) must name a registered callback
    and carry its outputs, inputs and state in order, as Dash's renderer sends them:

        {"output": "..a.b...c.d..", "outputs": [{"id", "property"}, ...],
         "inputs": [{"id", "property", "value"}, ...], "state": [...],
         "changedPropIds": ["a.b", ...]}

    Values are not looked at here (validate() does that). RequestError otherwise."""
    if not isinstance(body, dict):
        raise RequestError("the body is not a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        raise RequestError("no such callback")
    spec = callback_map[output]
    registered = spec["output"]
    outputs = body.get("outputs")
    if isinstance(registered, list | tuple):
        if not isinstance(outputs, list) or len(outputs) != len(registered):
            raise RequestError("the outputs do not match the callback")
        pairs = zip(outputs, registered, strict=True)
    else:
        pairs = ((outputs, registered),)
    for item, out in pairs:
        _dependency(item, out.component_id, out.component_property.split("@")[0], "outputs")
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list) or len(items) != len(spec[key]):
            raise RequestError(f"the {key} entries do not match the callback")
        for item, dep in zip(items, spec[key], strict=True):
            _dependency(item, dep["id"], dep["property"], key)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > 100 \
            or not all(isinstance(c, str) and len(c) < 1000 for c in changed):
        raise RequestError("changedPropIds is malformed")
