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
Uploads plug in with `decode_upload(contents)` and `check_data_shape(shape)`; the data
controls (built-in set, its parameters, split, standardise) are checked key by key in
`validate()` and against the chosen set in `data_settings(settings)`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from mlpcore import ACTIVATIONS, DATASETS, SPLITS, TRAIN_FRACTION, Config

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

# The data controls. `data` is a built-in set (mlpcore.toydata.DATASETS) or CSV, this tab's
# uploaded file. A set's parameters (points, classes, noise) come from its registry entry;
# the validated keys are Settings' names, each set's own ranges are checked in data_settings.
CSV = "csv"
DATA_NAMES = (*DATASETS, CSV)
DATA_PARAMS = (("points", "n_points"), ("classes", "n_classes"), ("noise", "noise"))
STANDARDIZE = "standardize"  # the value of the standardise switch (a one-box Checklist)
# What Document settings puts on the data controls (iris, the document's split, raw features)
DOCUMENT_DATA = {"data": "iris", "split": "document", "standardize": []}


def _param_specs() -> dict:
    """Settings key -> [Param of every set that has it] (mlpcore.toydata's registry)."""
    specs = {key: [] for key, _name in DATA_PARAMS}
    for builtin in DATASETS.values():
        for p in builtin.params:
            key = next(k for k, name in DATA_PARAMS if name == p.name)
            specs[key].append(p)
    return specs


PARAM_SPECS = _param_specs()
# Initial values of the parameter sliders (shown once a set that has them is chosen)
DATA_DEFAULTS = {**DOCUMENT_DATA, "train_fraction": TRAIN_FRACTION["default"],
                 **{key: ps[0].default for key, ps in PARAM_SPECS.items()}}
MAX_NAME_CHARS = 255  # an uploaded file's name, a label column's name

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
    # the data controls (None: not given, the default: iris, the document's split)
    data: str | None = None  # a name in DATA_NAMES
    points: int | None = None  # points per class (a built-in set's n_points)
    classes: int | None = None  # n_classes
    noise: float | None = None
    split: str | None = None  # "document" or "fraction" (mlpcore.SPLITS)
    train_fraction: float | None = None
    standardize: bool | None = None
    # an upload: the file's bytes (decoded, size-checked), its name, the label column chosen
    upload: bytes | None = None
    filename: str | None = None
    label: str | None = None
    # the panels of issue 7 (inspector, decision boundary, health): see "Panels" at the end
    inspect_row: int | None = None  # the inspector's training sample, 1-based
    inspect_mode: str | None = None  # "sample" or "batch"
    feature_x: int | None = None  # decision boundary: 0-based feature columns
    feature_y: int | None = None
    point_click: int | None = None  # a click on the boundary: 1-based training row
    cell_click: tuple[str, str] | None = None  # a confusion cell: (true, predicted) class
    pick: dict | None = None  # how the inspector's sample was picked (PICK_KEYS)
    shown: dict | None = None  # what a panel shows now (SHOWN_KEYS)
    # the Compare and Share tabs (issue 9): see "Compare and share" at the end
    pin: int | None = None  # a pinned run's number
    sweep_lrs: tuple[int, ...] | None = None  # slider positions on LR_VALUES, ascending
    sweep_regs: tuple[int, ...] | None = None  # positions on REG_VALUES
    sweep_iterations: int | None = None
    sweep_metric: str | None = None  # SWEEP_METRICS
    sweep_click: tuple[int, int] | None = None  # a heatmap cell -> (lr, reg) positions
    query: str | None = None  # the page's URL query ("?lr=0.1&...")
    hide: tuple[str, ...] | None = None  # classroom mode: hidden controls (urlstate.HIDEABLE)
    href: str | None = None  # the page's address (for the link the Share tab shows)
    sweep_record: dict | None = None  # the page's record of a sweep (check_sweep_record)
    sweep_plan: dict | None = None  # the page's plan of a sweep (check_sweep_plan)


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


def _optional(check):
    """A data control: None means "not given" (the default), anything else is checked."""
    return lambda v: None if v is None else check(v)


def _number(name: str, raw, low: float, high: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ControlError(f"{name} must be a number from {low:g} to {high:g}.")
    if not low <= raw <= high:
        got = f"{raw:g}" if abs(raw) < 1e12 else f"{raw:.3g}"
        raise ControlError(f"{name} must be from {low:g} to {high:g}; got {got}.")
    return round(float(raw), 9)  # slider steps arrive as 0.30000000000000004 too


def _param(key: str):
    """A set's parameter, checked against the widest range any set allows (data_settings
    checks the chosen set's own range)."""
    ps = PARAM_SPECS[key]
    low, high = min(p.min for p in ps), max(p.max for p in ps)
    name = ps[0].label
    if ps[0].integer:
        return lambda v: _integer(name, v, int(low), int(high))
    return lambda v: _number(name, v, low, high)


def _choice(name: str, allowed: tuple):
    def check(raw):
        if not isinstance(raw, str) or raw not in allowed:
            raise ControlError(f"{name} must be one of {', '.join(allowed)}.")
        return raw
    return check


def _switch(raw) -> bool:
    if not isinstance(raw, list | tuple) or len(raw) > 1 \
            or any(not isinstance(v, str) or v != STANDARDIZE for v in raw):
        raise ControlError("Standardise features must be on or off.")
    return bool(raw)


def _name(what: str):
    def check(raw) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME_CHARS \
                or re.search(r"[\x00-\x1f\x7f]", raw):
            raise ControlError(f"{what} must be a name of at most {MAX_NAME_CHARS} characters.")
        return raw
    return check


def _filename(raw) -> str:
    """The name the browser gives the file, without any folder ("C:\\fakepath\\x.csv")."""
    return re.split(r"[\\/]", _name("The file name")(raw))[-1].strip() or "data.csv"


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
    "data": _optional(_choice("The data set", DATA_NAMES)),
    **{key: _optional(_param(key)) for key, _name in DATA_PARAMS},
    "split": _optional(_choice("The split", SPLITS)),
    "train_fraction": _optional(lambda v: _number(
        "The train fraction", v, TRAIN_FRACTION["min"], TRAIN_FRACTION["max"])),
    "standardize": _optional(_switch),
    "upload": _optional(lambda v: decode_upload(v)),  # None: no file (yet)
    "filename": _optional(_filename),
    "label": _optional(_name("The label column")),
}


def validate(raw: Mapping[str, object]) -> Settings:
    """Turn raw control values into Settings, or raise ControlError (first problem found).

    Keys: hidden, layers, maxit, seed, display (numbers); lr, reg, speed (slider positions
    on LR_VALUES, REG_VALUES, SPEEDS); activation (a name); curves (a list of options);
    session (the tab's id); client (the page's record, see _client). The data controls
    (None for each means "not given"): data (DATA_NAMES), points, classes, noise (a set's
    parameters), split (SPLITS), train_fraction, standardize (the switch's list); an
    upload: upload (dcc.Upload's contents -> bytes; None: no file), filename, label.
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


def data_settings(settings: Settings) -> dict:
    """The data a run trains on, complete and checked against the chosen set:
    {"data", "points", "classes", "noise", "split", "train_fraction", "standardize"}, with
    None for what does not apply (a parameter the set does not have, the fraction of the
    document's split). Defaults fill what was not given. ControlError if a parameter is
    outside the chosen set's own range (e.g. noise 1.5 for circles, whose limit is 0.5)."""
    name = settings.data or DATA_DEFAULTS["data"]
    split = settings.split or DATA_DEFAULTS["split"]
    out = {"data": name}
    own = {} if name == CSV else {p.name: p for p in DATASETS[name].params}
    for key, pname in DATA_PARAMS:
        p = own.get(pname)
        value = getattr(settings, key)
        if p is None:
            out[key] = None
            continue
        value = p.default if value is None else value
        if not p.min <= value <= p.max or (p.integer and value != int(value)):
            raise ControlError(f"{p.label} must be from {p.min:g} to {p.max:g} for "
                               f"{DATASETS[name].title}; got {value:g}.")
        out[key] = int(value) if p.integer else float(value)
    fraction = settings.train_fraction
    out.update(split=split, standardize=bool(settings.standardize),
               train_fraction=None if split == "document" else
               (DATA_DEFAULTS["train_fraction"] if fraction is None else fraction))
    return out


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


def shape_of(dataset) -> DataShape:
    """The DataShape of a mlpcore Dataset."""
    names = [dataset.name, *dataset.feature_names, *dataset.class_names]
    return DataShape(dataset.n_features, dataset.n_classes, len(dataset.X_train),
                     len(dataset.X_test),
                     name_bytes=sum(len(n.encode("utf-8")) + 1 for n in names))


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
    if isinstance(cid, str) and cid.startswith("{"):  # callback_map keeps pattern ids as JSON
        import json

        cid = json.loads(cid)
    if isinstance(cid, dict):  # a pattern-matching id: one dict, or a list of them (ALL)
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(i, dict) and isinstance(i.get("id"), dict)
                   and set(i["id"]) == set(cid)
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


# ------------------------------------------------------------------------------- panels
# The values of the issue-7 panels (dashboard/panels/inspector.py, boundary.py, health.py).
# None is a normal value for each (nothing chosen or shown yet). Bounds are static here;
# against the run (a row past its training rows, a feature it does not have) the panels
# decide, since the page may hold a choice from an earlier run.
MAX_ROWS = LIMITS.max_upload_rows  # training rows of any run (uploads; built-ins have fewer)
INSPECT_MODES = ("sample", "batch")
PICK_KEYS = {"via", "row", "true", "pred", "found", "matches"}
SHOWN_KEYS = {"key", "sig", "it", "n", "t"}
_SHOWN_TEXT = re.compile(r"[0-9A-Za-z:._+-]{0,160}")


def _click_point(raw, what: str) -> dict:
    """The first point of a dcc.Graph's clickData ({"points": [{...}, ...]})."""
    points = raw.get("points") if isinstance(raw, Mapping) else None
    if not isinstance(points, list) or not 1 <= len(points) <= 100 \
            or not isinstance(points[0], Mapping):
        raise ControlError(f"The click on the {what} is malformed; click again.")
    return points[0]


def _point_click(raw) -> int | None:
    """A click on the decision boundary -> the 1-based training row it carries (customdata),
    or None for anything else (a test point, the coloured field)."""
    if raw is None:
        return None
    custom = _click_point(raw, "decision boundary").get("customdata")
    return None if custom is None else _integer("The clicked point", custom, 1, MAX_ROWS)


def _cell_click(raw) -> tuple[str, str] | None:
    """A click on the confusion matrix -> (true class, predicted class), the cell's y and x."""
    if raw is None:
        return None
    point = _click_point(raw, "confusion matrix")
    true, pred = point.get("y"), point.get("x")
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_NAME_CHARS for v in (true, pred)):
        raise ControlError("The click on the confusion matrix is malformed; click again.")
    return true, pred


def _pick(raw) -> dict | None:
    """{"via": "boundary" | "confusion", "row": 1-based, "true", "pred": class numbers or
    None, "found": bool, "matches": int}: how the inspector's sample was picked ({}: it was
    not picked by a click)."""
    if raw is None or (isinstance(raw, Mapping) and not raw):
        return None
    if not isinstance(raw, Mapping) or set(raw) - PICK_KEYS \
            or raw.get("via") not in ("boundary", "confusion") \
            or not isinstance(raw.get("found", False), bool):
        raise ControlError("The page's record of the picked sample is malformed; reload.")
    out = {"via": raw["via"], "found": raw.get("found", False),
           "row": _integer("The picked row", raw.get("row", 1), 1, MAX_ROWS),
           "matches": _integer("The picked matches", raw.get("matches", 0), 0, MAX_ROWS)}
    for key in ("true", "pred"):
        value = raw.get(key)
        out[key] = None if value is None else _integer(
            "The picked class", value, 0, LIMITS.max_classes - 1)
    return out


def _shown(raw) -> dict | None:
    """A panel's record of what it shows: {"key", "sig": short strings, "it", "n": counts,
    "t": the server's clock when it was drawn}."""
    if raw is None:
        return None
    bad = ControlError("A panel's record of what it shows is malformed; reload the page.")
    if not isinstance(raw, Mapping) or set(raw) - SHOWN_KEYS:
        raise bad
    key, sig, t = raw.get("key", ""), raw.get("sig", ""), raw.get("t", 0.0)
    if not all(isinstance(v, str) and _SHOWN_TEXT.fullmatch(v) for v in (key, sig)) \
            or isinstance(t, bool) or not isinstance(t, int | float) \
            or not (math.isfinite(t) and 0 <= t <= 1e11):
        raise bad
    return {"key": key, "sig": sig, "t": float(t),
            "it": _integer("A panel's iteration", raw.get("it", 0), 0, MAX_ITERATION),
            "n": _integer("A panel's point count", raw.get("n", 0), 0, MAX_POINTS)}


_CHECKS.update({
    "inspect_row": _optional(lambda v: _integer("The sample", v, 1, MAX_ROWS)),
    "inspect_mode": _choice("The inspector's view", INSPECT_MODES),
    "feature_x": _optional(lambda v: _integer("The x feature", v, 0,
                                              LIMITS.max_upload_columns - 1)),
    "feature_y": _optional(lambda v: _integer("The y feature", v, 0,
                                              LIMITS.max_upload_columns - 1)),
    "point_click": _point_click,
    "cell_click": _cell_click,
    "pick": _pick,
    "shown": _shown,
})


# ------------------------------------------------------------------------- compare and share
# The values of the Compare tab (pins, the lr x reg sweep: dashboard/panels/compare.py) and
# the Share tab (the link, classroom mode: dashboard/panels/share.py). The page's records of
# a sweep (its plan, its results) are checked whole by check_sweep_plan / check_sweep_record.
SWEEP_METRICS = ("test_accuracy", "loss")
SWEEP_ITERATIONS = (MAXIT_STEP, LIMITS.max_iterations)  # multiples of MAXIT_STEP
SWEEP_AXIS = 8  # values per axis (mlpcore.sweep.MAX_AXIS)
SWEEP_STATES = ("running", "complete")
SWEEP_STATUSES = ("maxit", "abstol", "diverged")
MAX_PIN_NUMBER = 10**6
MAX_HREF_CHARS = 2048
MAX_SEARCH_CHARS = 64 * 1024  # what a browser's address bar holds, about
MAX_PLAN_DATA_CHARS = 2 * 2**20  # a sweep plan's data spec, as JSON (iris: none at all)


def _positions(name: str, raw, values: tuple) -> tuple[int, ...]:
    """1 to SWEEP_AXIS distinct slider positions -> ascending."""
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= SWEEP_AXIS:
        raise ControlError(f"Choose from 1 to {SWEEP_AXIS} {name}s.")
    out = sorted({_position(name.capitalize(), v, values) for v in raw})
    if len(out) != len(raw):
        raise ControlError(f"The {name}s must all be different.")
    return tuple(out)


def _sweep_iterations(raw) -> int:
    value = _integer("Sweep iterations", raw, *SWEEP_ITERATIONS)
    if value % MAXIT_STEP:
        raise ControlError(f"Sweep iterations must be a multiple of {MAXIT_STEP}.")
    return value


def _sweep_click(raw) -> tuple[int, int] | None:
    """A click on the sweep heatmap -> the cell's (lr, reg) slider positions. Its x and y are
    the axis labels (figures.sweep_figure writes each value as layout.format_number does)."""
    if raw is None:
        return None
    point = _click_point(raw, "sweep heatmap")
    lr, reg = point.get("x"), point.get("y")
    lrs, regs = _labels(LR_VALUES), _labels(REG_VALUES)
    if not isinstance(lr, str) or lr not in lrs or not isinstance(reg, str) or reg not in regs:
        raise ControlError("The click on the sweep heatmap is not on a cell; click a cell.")
    return lrs[lr], regs[reg]


def _labels(values) -> dict[str, int]:
    """{"0.01": position, "1e-6": ..., ...}: the heatmap's labels of a slider's values."""
    out = {}
    for i, v in enumerate(values):
        text = f"{v:g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        out[text] = i
    return out


def _query(raw) -> str:
    """dcc.Location's `search` ("" or "?a=1&b=2"): text, which
    mlpcore.urlstate.query_to_settings parses (it never raises; a query over its
    MAX_QUERY_CHARS gives the defaults and says so)."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_SEARCH_CHARS:
        raise ControlError("The page's address is malformed; reload the page.")
    return raw


def _hide(raw) -> tuple[str, ...]:
    """The classroom marker's className ("classroom hide-activation ...") -> hidden names."""
    from mlpcore.urlstate import HIDEABLE

    if raw is None:
        return ()
    words = raw.split() if isinstance(raw, str) and len(raw) <= 2000 else None
    if words is None or any(w != "classroom" and w.removeprefix("hide-") not in HIDEABLE
                            for w in words):
        raise ControlError("The page's classroom settings are malformed; reload the page.")
    return tuple(n for n in HIDEABLE if f"hide-{n}" in words)


def _href(raw) -> str:
    if not isinstance(raw, str) or len(raw) > MAX_HREF_CHARS \
            or not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", raw):
        raise ControlError("The page's address is malformed; reload the page.")
    return raw


_CHECKS.update({
    "pin": _optional(lambda v: _integer("The pin", v, 1, MAX_PIN_NUMBER)),
    "sweep_lrs": lambda v: _positions("learning rate", v, LR_VALUES),
    "sweep_regs": lambda v: _positions("regularisation", v, REG_VALUES),
    "sweep_iterations": _sweep_iterations,
    "sweep_metric": _choice("The sweep's heatmap", SWEEP_METRICS),
    "sweep_click": _sweep_click,
    "query": _query,
    "hide": _hide,
    "href": _href,
    "sweep_record": lambda v: check_sweep_record(v),
    "sweep_plan": lambda v: check_sweep_plan(v),
})


def check_sweep_size(settings: Settings, limits: Limits = LIMITS) -> None:
    """The grid's cells against MLPLAB_MAX_SWEEP_CELLS."""
    cells = len(settings.sweep_lrs) * len(settings.sweep_regs)
    if cells > limits.max_sweep_cells:
        raise ControlError(f"The sweep has {cells} cells; the limit is "
                           f"{limits.max_sweep_cells}. Choose fewer values.")


def _grid(raw, rows: int, cols: int, cell) -> list[list]:
    if not isinstance(raw, list) or len(raw) != rows \
            or not all(isinstance(r, list) and len(r) == cols for r in raw):
        raise ControlError("The page's sweep results are malformed; run the sweep again.")
    return [[cell(v) for v in r] for r in raw]


def _grid_number(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
            or abs(v) > 1e300:
        raise ControlError("The page's sweep results are malformed; run the sweep again.")
    return float(v)


def _grid_status(v):
    if v is not None and v not in SWEEP_STATUSES:
        raise ControlError("The page's sweep results are malformed; run the sweep again.")
    return v


def check_sweep_record(raw) -> dict | None:
    """The page's record of a sweep (panels/compare.py makes it) -> the same, checked; None
    for None or {} (no sweep yet). {"id": hex, "started": seconds, "lrs", "regs":
    positions, "iterations", "acc", "loss": grids of numbers or None, "status": grid,
    "done": cells, "state"}."""
    if raw is None or (isinstance(raw, Mapping) and not raw):
        return None
    bad = ControlError("The page's sweep results are malformed; run the sweep again.")
    keys = {"id", "started", "lrs", "regs", "iterations", "acc", "loss", "status", "done",
            "state"}
    if not isinstance(raw, Mapping) or set(raw) != keys or raw["state"] not in SWEEP_STATES:
        raise bad
    started = raw["started"]
    if isinstance(started, bool) or not isinstance(started, int | float) \
            or not (math.isfinite(started) and 0 <= started <= 1e11):
        raise bad
    lrs = _positions("learning rate", raw["lrs"], LR_VALUES)
    regs = _positions("regularisation", raw["regs"], REG_VALUES)
    if list(lrs) != list(raw["lrs"]) or list(regs) != list(raw["regs"]):
        raise bad
    return {"id": _hex_id("The sweep's id", raw["id"]), "started": float(started),
            "lrs": list(lrs), "regs": list(regs),
            "iterations": _integer("Sweep iterations", raw["iterations"], 1, MAX_ITERATION),
            "acc": _grid(raw["acc"], len(regs), len(lrs), _grid_number),
            "loss": _grid(raw["loss"], len(regs), len(lrs), _grid_number),
            "status": _grid(raw["status"], len(regs), len(lrs), _grid_status),
            "done": _integer("Sweep cells done", raw["done"], 0, len(lrs) * len(regs)),
            "state": raw["state"]}


def check_sweep_plan(raw) -> dict | None:
    """The page's plan of a sweep (made on the server from the run; it comes back through
    the page, so it is checked again; None for None or {}, no sweep yet): {"id", "config":
    Config.to_dict() within the dashboard's bounds, "lrs", "regs": positions, "iterations",
    "data": a data set spec (mlpcore/dataspec.py) or None}. The core checks the rest
    (sweep_tasks: the data, the work). ControlError otherwise."""
    import json

    bad = ControlError("The page's sweep plan is malformed; press Run sweep again.")
    if raw is None or (isinstance(raw, Mapping) and not raw):
        return None  # no sweep asked for yet
    if not isinstance(raw, Mapping) or set(raw) != {"id", "config", "lrs", "regs",
                                                    "iterations", "data"}:
        raise bad
    try:
        config = Config.from_dict(dict(raw["config"]) if isinstance(raw["config"], Mapping)
                                  else raw["config"])
    except (ValueError, TypeError):
        raise bad from None
    validate({"hidden": config.hidden[0], "layers": len(config.hidden),
              "activation": config.activation, "seed": config.seed})
    if len(set(config.hidden)) != 1:
        raise bad
    data = raw["data"]
    if data is not None and (not isinstance(data, Mapping)
                             or len(json.dumps(data)) > MAX_PLAN_DATA_CHARS):
        raise bad
    settings = validate({"sweep_lrs": raw["lrs"], "sweep_regs": raw["regs"],
                         "sweep_iterations": raw["iterations"]})
    check_sweep_size(settings)
    return {"id": _hex_id("The sweep's id", raw["id"]), "config": config.to_dict(),
            "lrs": list(settings.sweep_lrs), "regs": list(settings.sweep_regs),
            "iterations": settings.sweep_iterations, "data": data}
