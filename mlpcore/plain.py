"""Plain data for a UI: numpy arrays and scalars -> JSON-safe lists, floats, ints and None."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["to_plain"]


def _num(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def to_plain(obj):
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Arrays become nested lists; NaN and +-inf become None (JSON has no such numbers);
    tuples become lists; dict keys become strings.
    """
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "iub":
            return obj.tolist()
        if obj.dtype.kind == "f":
            if np.isfinite(obj).all():
                return obj.tolist()
            return to_plain(obj.astype(object).tolist())
        return [to_plain(v) for v in obj.tolist()]
    if isinstance(obj, (bool, int, float, np.generic)):
        return _num(obj) if not isinstance(obj, np.str_) else str(obj)
    return obj
