"""A run as bytes: safe (no pickle), versioned, checked, fast.

Layout (all little-endian)::

    b"MLPLAB" | version u16 | header length u32 | crc32 u32 | header | payload

The header is UTF-8 JSON (config, status, iteration, names, the payload's directory);
the payload is the raw arrays (parameters, data set, generator words, history), each
starting on an 8-byte boundary. The CRC-32 covers header and payload. Anything malformed,
truncated, oversized or corrupted raises ValueError.
"""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np

from .config import Config
from .data import Dataset
from .history import HISTORY_FIELDS, History
from .rrandom import RRandom

__all__ = ["dumps", "loads", "MAGIC", "VERSION", "MAX_BYTES"]

MAGIC = b"MLPLAB"
VERSION = 1
MAX_BYTES = 1 << 30
MAX_HEADER = 1 << 20
_PREFIX = struct.Struct("<6sHII")
_ARRAYS = {  # name: dtype, number of dimensions
    "theta": ("<f8", 1), "X_train": ("<f8", 2), "y_train": ("<i8", 1), "X_test": ("<f8", 2),
    "y_test": ("<i8", 1), "train_indices": ("<i8", 1), "test_indices": ("<i8", 1),
    "rng_mt": ("<u4", 1), "history": ("<f8", 2),
}
_ITEMSIZE = {name: np.dtype(dtype).itemsize for name, (dtype, _) in _ARRAYS.items()}
_STATUSES = ("ready", "running", "abstol", "maxit", "diverged")


def _num(x: float):
    return x if math.isfinite(x) else repr(float(x))  # JSON has no inf / nan


def dumps(trainer) -> bytes:
    d, h = trainer.dataset, trainer.history
    hist = np.array([getattr(h, f) for f in HISTORY_FIELDS], dtype="<f8").reshape(7, len(h))
    arrays = {"theta": trainer._theta, "X_train": d.X_train, "y_train": d.y_train,
              "X_test": d.X_test, "y_test": d.y_test, "train_indices": d.train_indices,
              "test_indices": d.test_indices, "rng_mt": trainer._rng._mt, "history": hist}
    directory, chunks, offset = {}, [], 0
    for name, arr in arrays.items():
        raw = np.ascontiguousarray(arr, dtype=_ARRAYS[name][0]).tobytes()
        directory[name] = [list(arr.shape), offset]
        pad = -len(raw) % 8
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    failure = trainer._failure
    header = {
        "config": trainer.config.to_dict(), "iteration": trainer.iteration,
        "loss": _num(trainer.loss), "status": trainer.status,
        "failure": None if failure is None else [failure[0], failure[1], _num(failure[2])],
        "rng_mti": trainer._rng._mti, "name": d.name, "feature_names": d.feature_names,
        "class_names": d.class_names, "arrays": directory,
        "scaling": None if not d.standardized else  # Dataset.transform's center and scale
        {"center": d.feature_center.tolist(), "scale": d.feature_scale.tolist()},
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    body = head + b"".join(chunks)
    return _PREFIX.pack(MAGIC, VERSION, len(head), zlib.crc32(body)) + body


def _float(v, what: str) -> float:
    if isinstance(v, str) and v in ("inf", "-inf", "nan"):
        return float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{what} must be a number")
    return float(v)


def _int(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{what} must be a whole number >= 0")
    return v


def _strings(v, what: str) -> list:
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ValueError(f"{what} must be a list of strings")
    return v


def _scaling(v) -> dict:
    """Dataset keywords from the header's "scaling" (absent before standardisation existed)."""
    if v is None:
        return {}
    if not isinstance(v, dict) or set(v) != {"center", "scale"} or \
            not all(isinstance(v[k], list) for k in v):
        raise ValueError("malformed standardisation record")
    return {"feature_center": v["center"], "feature_scale": v["scale"]}


def loads(data, max_bytes: int = MAX_BYTES):
    """Trainer from dumps() output; ValueError on anything else, and on more than
    `max_bytes` bytes (checked before anything is parsed)."""
    try:
        return _loads(data, max_bytes)
    except ValueError:
        raise
    except Exception as exc:  # anything odd in hostile input is still just "not valid"
        raise ValueError(f"not a valid MLP Lab run: {type(exc).__name__}: {exc}") from None


def _loads(data, max_bytes):
    from .buffers import layout
    from .network import layer_sizes
    from .trainer import Trainer

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("expected bytes")
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) > min(max_bytes, MAX_BYTES):
        raise ValueError(f"input is larger than {min(max_bytes, MAX_BYTES)} bytes")
    if len(data) < _PREFIX.size:
        raise ValueError("input is too short to be an MLP Lab run")
    magic, version, head_len, crc = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not an MLP Lab run (bad magic bytes)")
    if version != VERSION:
        raise ValueError(f"unsupported MLP Lab run format version {version}")
    if head_len > MAX_HEADER or _PREFIX.size + head_len > len(data):
        raise ValueError("truncated or malformed header")
    body = memoryview(data)[_PREFIX.size:]
    if zlib.crc32(body) != crc:
        raise ValueError("checksum mismatch: the data is truncated or corrupted")
    header = json.loads(bytes(body[:head_len]).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("header must be a JSON object")
    payload = body[head_len:]
    directory = header["arrays"]
    if not isinstance(directory, dict) or set(directory) != set(_ARRAYS):
        raise ValueError("the array directory is incomplete")
    arrays, end = {}, 0
    for name, (dtype, ndim) in _ARRAYS.items():
        shape, offset = directory[name]
        if not isinstance(shape, list) or len(shape) != ndim:
            raise ValueError(f"array {name} has a bad shape")
        for s in shape:
            _int(s, "array shape")
        _int(offset, "array offset")
        count = math.prod(shape)
        nbytes = count * _ITEMSIZE[name]
        if offset % 8 or offset + nbytes > len(payload):
            raise ValueError(f"array {name} lies outside the data")
        arrays[name] = np.frombuffer(payload, dtype, count, offset).reshape(shape).copy()
        end = max(end, offset + nbytes + (-nbytes % 8))
    if end != len(payload):
        raise ValueError("unexpected bytes after the arrays")
    config = Config.from_dict(header["config"])
    dataset = Dataset(
        name=str(header["name"]), X_train=arrays["X_train"], y_train=arrays["y_train"],
        X_test=arrays["X_test"], y_test=arrays["y_test"],
        feature_names=_strings(header["feature_names"], "feature names"),
        class_names=_strings(header["class_names"], "class names"),
        train_indices=arrays["train_indices"], test_indices=arrays["test_indices"],
        **_scaling(header.get("scaling")))
    hist = arrays["history"]
    if hist.shape[0] != len(HISTORY_FIELDS):
        raise ValueError("history has the wrong number of fields")
    history = History._from_columns(hist.tolist())
    status = header["status"]
    if status not in _STATUSES:
        raise ValueError(f"unknown status {status!r}")
    failure = header["failure"]
    if failure is not None:
        if not isinstance(failure, list) or len(failure) != 3 or failure[0] not in ("loss",
                                                                                    "params"):
            raise ValueError("malformed failure record")
        failure = (failure[0], _int(failure[1], "failure iteration"),
                   _float(failure[2], "failure value"))
    if (status == "diverged") != (failure is not None):
        raise ValueError("status and failure record disagree")
    rng = RRandom.from_words(arrays["rng_mt"], _int(header["rng_mti"], "generator position"))
    iteration = _int(header["iteration"], "iteration")
    if iteration > config.maxit:
        raise ValueError("iteration is beyond maxit")
    loss = _float(header["loss"], "loss")
    n_params = layout(layer_sizes(dataset.n_features, config.hidden, dataset.n_classes))[1]
    if arrays["theta"].shape != (n_params,):  # before any buffer is sized by the config
        raise ValueError(f"the header's network has {n_params} parameters, the data "
                         f"{arrays['theta'].size}")
    return Trainer._restore(config, dataset, arrays["theta"], rng, history, iteration,
                            loss, status, failure)
