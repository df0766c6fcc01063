"""The lab's settings in a link: settings dict <-> URL query string, pure and validated.

    q = settings_to_query({"lr": 0.1, "hidden": 8, "hide": ["activation", "layers"]})
    settings, errors = query_to_settings("?lr=0.1&hidden=8&hide=activation,layers")

``query_to_settings`` never raises: it returns every setting (defaults where the link says
nothing or something unusable) and a list of plain-English sentences for the page, one per
ignored or replaced value. Keys (values as in the link):

    hidden, layers, maxit, seed, display   whole numbers        lr, reg  numbers
    speed        iterations per update, or "max"               activation  relu, tanh, ...
    data         a built-in set (toydata.DATASETS); points, classes, noise: its settings
                 (None for a set without them)                 split  document | fraction
    train        the train fraction (None unless split=fraction)   standardize  1 | 0
    hide         controls hidden in classroom mode, e.g. hide=activation,layers (HIDEABLE)

The bounds follow the dashboard's controls (dashboard/validation.py and limits.py; the core
may not import the dashboard): pass ``UrlBounds(...)`` with the server's limits. An uploaded
CSV cannot live in a link, so data= names built-in sets only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from .activations import ACTIVATIONS
from .splits import SPLITS, TRAIN_FRACTION
from .toydata import DATASETS

__all__ = ["UrlBounds", "DEFAULTS", "HIDEABLE", "MAX_QUERY_CHARS", "settings_to_query",
           "query_to_settings", "normalize"]

MAX_QUERY_CHARS = 4096
HIDEABLE = ("hidden", "layers", "lr", "reg", "maxit", "seed", "display", "speed", "activation",
            "data", "split", "standardize", "upload", "sweep", "pins", "export", "curves")
DEFAULTS = {"hidden": 6, "layers": 1, "lr": 0.01, "reg": 0.001, "maxit": 3000, "seed": 1,
            "display": 50, "speed": 50, "activation": "relu", "data": "iris", "points": None,
            "classes": None, "noise": None, "split": "document", "train": None,
            "standardize": False, "hide": []}
_PARAM = {"points": "n_points", "classes": "n_classes", "noise": "noise"}
_INT = re.compile(r"[+-]?\d{1,12}")
_REAL = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?")


@dataclass(frozen=True)
class UrlBounds:
    """Ranges of the controls (defaults: dashboard/validation.py with the default limits)."""

    max_hidden: int = 64
    max_layers: int = 4
    max_iterations: int = 20_000
    maxit_step: int = 100
    lr_range: tuple = (1e-4, 10.0)
    reg_range: tuple = (0.0, 1.0)
    display_range: tuple = (1, 5000)
    seed_range: tuple = (0, 2**31 - 1)
    speeds: tuple = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0)  # 0: as fast as possible
    lr_values: tuple | None = None  # e.g. validation.LR_VALUES: links snap to the slider's
    reg_values: tuple | None = None  # values (nearest on a log scale), with a note


_LABELS = {"hidden": "hidden units", "layers": "hidden layers", "lr": "learning rate",
           "reg": "regularisation", "maxit": "max iterations", "seed": "seed",
           "display": "display interval", "speed": "speed", "activation": "activation",
           "data": "data set", "points": "points per class", "classes": "classes",
           "noise": "noise", "split": "split", "train": "train fraction",
           "standardize": "standardize", "hide": "hide"}


def _ranges(b: UrlBounds) -> dict:
    """key -> (kind, low, high) for the numeric settings."""
    return {"hidden": ("int", 1, b.max_hidden), "layers": ("int", 1, b.max_layers),
            "maxit": ("int", b.maxit_step, b.max_iterations), "seed": ("int", *b.seed_range),
            "display": ("int", *b.display_range), "lr": ("real", *b.lr_range),
            "reg": ("real", *b.reg_range),
            "train": ("real", TRAIN_FRACTION["min"], TRAIN_FRACTION["max"])}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return repr(float(v)) if isinstance(v, float) else str(v)


def _parse_one(key: str, raw: str, b: UrlBounds, data: str):
    """The value of one setting from its text, or raise ValueError(reason)."""
    if key in ("points", "classes", "noise"):
        p = next((p for p in DATASETS[data].params if p.name == _PARAM[key]), None)
        if p is None:
            raise ValueError(f"does not apply to the {data} data set")
        kind, lo, hi = ("int" if p.integer else "real"), p.min, p.max
    elif key in _ranges(b):
        kind, lo, hi = _ranges(b)[key]
    elif key == "speed":
        if raw == "max":
            return 0
        if not _INT.fullmatch(raw) or int(raw) not in b.speeds or int(raw) == 0:
            shown = ", ".join(str(s) for s in b.speeds if s) + " or max"
            raise ValueError(f"must be one of {shown}")
        return int(raw)
    elif key in ("activation", "data", "split"):
        allowed = {"activation": tuple(ACTIVATIONS), "data": tuple(DATASETS),
                   "split": SPLITS}[key]
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw
    elif key == "standardize":
        if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError("must be 1 or 0")
        return raw.lower() in ("1", "true", "yes", "on")
    else:
        raise KeyError(key)
    if kind == "int":
        if not _INT.fullmatch(raw):
            raise ValueError("is not a whole number")
        v = int(raw)
    else:
        v = float(raw) if _REAL.fullmatch(raw) else math.nan
        if not math.isfinite(v):
            raise ValueError("is not a number")
    if not lo <= v <= hi:
        raise ValueError(f"is outside {_fmt(lo)} to {_fmt(hi)}")
    if key == "maxit" and v % b.maxit_step:
        raise ValueError(f"is not a multiple of {b.maxit_step}")
    return v


def _nearest(values, x: float) -> float:
    """The value closest to x, on a log scale for x > 0 (so 0.013 -> 0.015, not 0.01)."""
    positive = [v for v in values if v > 0]
    if x == 0 or not positive:
        return min(values, key=lambda v: abs(v - x))
    return min(positive, key=lambda v: abs(math.log(v / x)))


def _hide(raw: str, errors: list) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for n in names:
        if n not in HIDEABLE:
            errors.append(f'The link asks to hide an unknown control "{n[:40]}"; ignored.')
    return [n for n in HIDEABLE if n in names]


def query_to_settings(query: str, bounds: UrlBounds | None = None) -> tuple[dict, list[str]]:
    """(settings, errors) from a query string ("?a=1&b=2", "a=1&b=2" or a whole URL)."""
    b, errors = bounds or UrlBounds(), []
    settings = dict(DEFAULTS, hide=[])
    if not isinstance(query, str):
        return _finish(settings, {}, b, ["The link's settings could not be read; using the "
                                         "defaults."])
    query = query.split("#", 1)[0]
    if query.startswith("?") or "://" in query or query.startswith("/"):
        query = query.partition("?")[2]  # a whole URL, a path or dcc.Location's "search"
    if len(query) > MAX_QUERY_CHARS:
        return _finish(settings, {}, b, [f"The link's settings are longer than "
                                         f"{MAX_QUERY_CHARS} characters; using the defaults."])
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=len(DEFAULTS) + 20)
    except ValueError:
        return _finish(settings, {}, b, ["The link has too many settings; using the defaults."])
    given = {}
    for key, raw in pairs:
        if key not in DEFAULTS:
            errors.append(f'The link has an unknown setting "{key[:40]}"; ignored.')
        elif key in given:
            errors.append(f'The link gives "{key}" more than once; the first value is used.')
        else:
            given[key] = raw.strip()
    return _finish(settings, given, b, errors)


def _finish(settings: dict, given: dict, b: UrlBounds, errors: list) -> tuple[dict, list]:
    order = ["data", *(k for k in DEFAULTS if k != "data")]  # data first: its params depend on it
    for key in order:
        if key not in given:
            continue
        raw = given[key]
        if key == "hide":
            settings["hide"] = _hide(raw, errors)
            continue
        try:
            settings[key] = _parse_one(key, raw, b, settings["data"])
        except ValueError as exc:
            kept = "it was ignored" if str(exc).startswith("does not apply") else \
                f"using {_fmt(settings[key]) if settings[key] is not None else 'the default'}"
            errors.append(f'The link\'s {_LABELS[key]} "{raw[:40]}" {exc}; {kept}.')
            continue
        values = {"lr": b.lr_values, "reg": b.reg_values}.get(key)
        if values and settings[key] not in values:
            near = _nearest(values, settings[key])
            errors.append(f"The link's {_LABELS[key]} {raw[:40]} is not one of the slider's "
                          f"values; using the nearest, {_fmt(near)}.")
            settings[key] = near
    if settings["split"] != "fraction" and "train" in given and \
            settings.get("train") is not None:
        errors.append("The link's train fraction applies only to split=fraction; ignored.")
    return normalize(settings), errors


def normalize(settings: dict) -> dict:
    """Settings with the data set's parameters and the train fraction filled in or cleared
    (None where they do not apply). Assumes valid values."""
    s = dict(settings)
    params = {p.name: p for p in DATASETS[s["data"]].params}
    for key, name in _PARAM.items():
        p = params.get(name)
        s[key] = None if p is None else (s.get(key) if s.get(key) is not None else
                                         (int(p.default) if p.integer else float(p.default)))
    if s["split"] == "fraction":
        s["train"] = s.get("train") if s.get("train") is not None else TRAIN_FRACTION["default"]
    else:
        s["train"] = None
    return s


def settings_to_query(settings: dict, bounds: UrlBounds | None = None,
                      omit_defaults: bool = False) -> str:
    """A query string (no leading "?") for the given settings (a subset is fine; None values
    are left out). ValueError for an unknown key or a value the link could not carry back."""
    b = bounds or UrlBounds()
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(map(str, unknown)))}")
    data = settings.get("data", "iris")
    if data not in DATASETS:
        raise ValueError(f"data set {data!r} must be one of {', '.join(DATASETS)}")
    ref = normalize({**DEFAULTS, "data": data, "split": settings.get("split", "document")})
    ref.update(data=DEFAULTS["data"], split=DEFAULTS["split"])  # the rest follow data, split
    pairs = []
    for key in DEFAULTS:
        v = settings.get(key)
        if v is None or (omit_defaults and v == ref[key]):
            continue
        if key == "hide":
            if isinstance(v, str) or not isinstance(v, (list, tuple)) or \
                    any(n not in HIDEABLE for n in v):
                raise ValueError(f"hide must be a list of {', '.join(HIDEABLE)}")
            if v:
                pairs.append((key, ",".join(n for n in HIDEABLE if n in v)))
            continue
        if isinstance(v, bool) != (key == "standardize"):
            raise ValueError(f"{_LABELS[key]} {v!r} has the wrong type")
        text = "max" if key == "speed" and v == 0 else _fmt(v)
        try:
            back = _parse_one(key, text, b, data)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{_LABELS[key]} {v!r} {exc}") from None
        if back != v:
            raise ValueError(f"{_LABELS[key]} {v!r} cannot be written exactly")
        pairs.append((key, text))
    return urlencode(pairs, safe=",")
