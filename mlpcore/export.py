"""A trained run leaves the lab: the model as JSON, the history as CSV (R-friendly).

    text = model_to_json(trainer)            # config + data description + W1, b1, ... + metrics
    model = load_model(text)                 # .predict(X) / .predict_proba(X), as the Trainer
    config, params, meta = model_from_json(text)
    csv_text = history_to_csv(trainer)       # step, loss, ..., test_loss; NA for missing

The JSON is plain data (no pickle, no code): ``format`` ("mlplab-model"), ``format_version``,
``config`` (Config.to_dict()), ``data`` (name, feature and class names, standardisation
``center``/``scale`` or null, 1-based ``train_indices``/``test_indices``), ``params``
({"W1": rows, "b1": [[...]], ...}: arrays of rows, as the CLI's --json) and ``metrics``.
Floats are written with Python's shortest round-trip repr, so parameters load bit for bit;
non-finite numbers become null; a model whose parameters are null, or whose run diverged,
is refused on loading.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from .config import Config
from .network import layer_sizes
from .network import predict as _predict
from .network import predict_proba as _predict_proba
from .plain import to_plain

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_MODEL_BYTES", "CSV_COLUMNS", "ExportedModel",
           "model_to_dict", "model_to_json", "model_from_json", "load_model", "history_to_csv"]

FORMAT = "mlplab-model"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 32 * 1024 * 1024  # checked before parsing; the lab's largest net is ~0.5 MB
_TOP = ("format", "format_version", "config", "data", "params", "metrics")
_DATA = ("name", "feature_names", "class_names", "center", "scale", "train_indices",
         "test_indices")


def model_to_dict(trainer) -> dict:
    """The export as a JSON-safe dict (see the module docstring)."""
    d, h = trainer.dataset, trainer.history
    metrics = {
        "status": trainer.status, "message": trainer.message, "iterations": trainer.iteration,
        "loss": trainer.loss,  # R's loss of the last iteration (parameters before its update)
        "train_accuracy": trainer.accuracy("train"),
        "test_accuracy": trainer.accuracy("test") if len(d.y_test) else None,
        "confusion": trainer.confusion("test").tolist(),  # rows = true class
        "last_history": None if not len(h) else {k: v[-1] for k, v in h.since(len(h) - 1).items()},
    }
    return to_plain({
        "format": FORMAT, "format_version": FORMAT_VERSION, "config": trainer.config.to_dict(),
        "data": {"name": d.name, "feature_names": d.feature_names, "class_names": d.class_names,
                 "center": d.feature_center, "scale": d.feature_scale,
                 "train_indices": d.train_indices, "test_indices": d.test_indices},
        "params": {k: v for k, v in trainer.params.items()}, "metrics": metrics})


def model_to_json(trainer, indent: int | None = None) -> str:
    """The trained model as JSON text (valid JSON: no NaN/Infinity tokens)."""
    return json.dumps(model_to_dict(trainer), indent=indent, allow_nan=False)


class ExportedModel:
    """A loaded model that predicts as the Trainer did. ``config`` (Config), ``params``
    ({"W1": (D, H1), "b1": (1, H1), ...} float64), ``meta`` (the JSON's data and metrics)."""

    def __init__(self, config: Config, params: dict, meta: dict) -> None:
        self.config, self.params, self.meta = config, params, meta
        data = meta["data"]
        self.feature_names, self.class_names = data["feature_names"], data["class_names"]
        self.center = None if data["center"] is None else np.array(data["center"], np.float64)
        self.scale = None if data["scale"] is None else np.array(data["scale"], np.float64)

    def _X(self, X, raw: bool) -> np.ndarray:
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError, OverflowError, MemoryError):
            raise ValueError("X must be a table of numbers (rows x features)") from None
        D = len(self.feature_names)
        if X.ndim != 2 or X.shape[1] != D:
            raise ValueError(f"X must have shape (rows, {D}), got {X.shape}")
        if raw and self.center is not None:
            X = (X - self.center) / self.scale  # as Dataset.transform
        return X

    def predict_proba(self, X, *, raw: bool = True) -> np.ndarray:
        """(N, K) probabilities. raw=True: X in the data's own units (standardised here if the
        run was); raw=False: X already as the network sees it (as Trainer.predict_proba)."""
        with np.errstate(all="ignore"):
            return _predict_proba(self.params, self._X(X, raw), self.config.activation)

    def predict(self, X, *, raw: bool = True) -> np.ndarray:
        """(N,) 0-based class numbers (first maximum on ties, as Trainer.predict)."""
        with np.errstate(all="ignore"):
            return _predict(self.params, self._X(X, raw), self.config.activation)

    def predict_names(self, X, *, raw: bool = True) -> list[str]:
        return [self.class_names[k] for k in self.predict(X, raw=raw)]


def _reject(_token):
    raise ValueError("NaN and Infinity are not valid JSON numbers")


def _strings(v, what: str, n: int | None = None) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ValueError(f"{what} must be a list of strings")
    if n is not None and len(v) != n:
        raise ValueError(f"{what} must have {n} entries, got {len(v)}")
    return v


def _matrix(v, shape: tuple[int, int], what: str, finite_msg: str) -> np.ndarray:
    rows, cols = shape
    if not isinstance(v, list) or len(v) != rows or \
            not all(isinstance(r, list) and len(r) == cols for r in v):
        raise ValueError(f"{what} must be {rows} rows of {cols} numbers")
    flat = [x for r in v for x in r]
    if any(x is None for x in flat):
        raise ValueError(finite_msg)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat):
        raise ValueError(f"{what} must hold only numbers")
    try:
        a = np.array(flat, dtype=np.float64).reshape(rows, cols)
    except OverflowError:  # an integer too large for a float
        raise ValueError(finite_msg) from None
    if not np.isfinite(a).all():
        raise ValueError(finite_msg)
    return a


def _indices(v, what: str) -> list[int]:
    if not isinstance(v, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                          and i >= 1 for i in v):
        raise ValueError(f"{what} must be a list of row numbers (1, 2, ...)")
    return v


def model_from_json(text, max_bytes: int = MAX_MODEL_BYTES):
    """(Config, params, meta) from model_to_json() text (str or bytes); ValueError with a
    plain sentence for anything else. The size is checked before parsing."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_bytes:
            raise ValueError(f"the model file is larger than {max_bytes:,} bytes")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the model file is not UTF-8 text") from None
    if not isinstance(text, str):
        raise ValueError("expected the model's JSON text")
    if len(text) > max_bytes:
        raise ValueError(f"the model file is larger than {max_bytes:,} bytes")
    try:
        doc = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the model file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'not an MLP Lab model (the "format" field must be "{FORMAT}")')
    if doc.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported model format version {doc.get('format_version')!r} "
                         f"(this lab reads version {FORMAT_VERSION})")
    if set(doc) != set(_TOP):
        raise ValueError(f"the model must have exactly the fields {', '.join(_TOP)}")
    config = Config.from_dict(doc["config"])
    data = doc["data"]
    if not isinstance(data, dict) or set(data) != set(_DATA):
        raise ValueError(f"the model's data must have exactly the fields {', '.join(_DATA)}")
    features = _strings(data["feature_names"], "feature_names")
    classes = _strings(data["class_names"], "class_names")
    if not features or len(classes) < 2:
        raise ValueError("a model needs at least 1 feature and 2 classes")
    D, K = len(features), len(classes)
    if (data["center"] is None) != (data["scale"] is None):
        raise ValueError("center and scale must both be given or both be null")
    if data["center"] is not None:
        msg = "the standardisation center and scale must be finite numbers"
        _matrix([data["center"]], (1, D), "center", msg)
        if not (_matrix([data["scale"]], (1, D), "scale", msg) > 0).all():
            raise ValueError("the standardisation scale must be positive")
    _indices(data["train_indices"], "train_indices")
    _indices(data["test_indices"], "test_indices")
    if not isinstance(doc["metrics"], dict):
        raise ValueError("metrics must be a JSON object")
    if doc["metrics"].get("status") == "diverged":
        raise ValueError("this model comes from a run that diverged (its loss became infinite "
                         "or NaN), so its parameters are meaningless and it is not loaded; "
                         "export a run that did not diverge")
    sizes = layer_sizes(D, config.hidden, K)
    names = [f"{p}{i}" for i in range(1, len(sizes)) for p in ("W", "b")]
    if not isinstance(doc["params"], dict) or sorted(doc["params"]) != sorted(names):
        raise ValueError(f"params must be exactly {', '.join(names)} for hidden "
                         f"{list(config.hidden)}, {D} features and {K} classes")
    bad = ("the model's parameters are not finite numbers (the run diverged), so it "
           "cannot predict; export a run that did not diverge")
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{i}"] = _matrix(doc["params"][f"W{i}"], (fan_in, fan_out), f"W{i}", bad)
        params[f"b{i}"] = _matrix(doc["params"][f"b{i}"], (1, fan_out), f"b{i}", bad)
    meta = {"data": data, "metrics": doc["metrics"]}
    return config, params, meta


def load_model(text, max_bytes: int = MAX_MODEL_BYTES) -> ExportedModel:
    """model_from_json() wrapped in an object with predict / predict_proba."""
    return ExportedModel(*model_from_json(text, max_bytes))


# ------------------------------------------------------------------------------ history CSV
CSV_COLUMNS = ("step", "loss", "data_loss", "reg_loss", "train_accuracy", "test_accuracy",
               "test_loss")
_HISTORY = ("step", "loss", "data_loss", "reg_loss", "train_acc", "test_acc", "test_loss")


def _cell(v) -> str:
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NA"  # R's read.csv: missing (no test set, or a NaN loss)
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"  # read.csv reads these as R's Inf
    return repr(float(v))  # shortest round-trip, '.' decimal point


def history_to_csv(run) -> str:
    """One row per display step: CSV_COLUMNS, a header, '.' decimals, NA for missing.

    ``run``: a Trainer or a History. The History does not record lr / reg per step, so a
    run whose lr or reg changed mid-run has no column saying so (the model JSON's config
    holds the values in force at export)."""
    h = getattr(run, "history", run)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in zip(*(getattr(h, name) for name in _HISTORY), strict=True):
        w.writerow([_cell(v) for v in row])
    return out.getvalue()
