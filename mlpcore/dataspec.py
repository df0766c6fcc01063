"""Data sets as JSON specs, so a task on another machine rebuilds exactly the lab's data.

    None                                   iris with the document's split (the Trainer's own)
    {"kind": "builtin", "name": "spiral", "n_points": 100, "n_classes": 3, "noise": 0.2,
     "split": "document", "train_fraction": None, "standardize": False}   (absent: defaults)
    {"kind": "csv", "text": "...", "label": "species", "features": None, "name": "my.csv",
     "split": ..., "train_fraction": ..., "standardize": ...}
    {"kind": "arrays", ...}                dataset_to_spec(dataset): any Dataset, exactly

Built-in and CSV specs are generated / split with the run's seed and sample kind, as the
lab does (``make_dataset(seed=config.seed)``); JSON floats round-trip, so "arrays" is exact.
"""

from __future__ import annotations

import numpy as np

from .csvdata import csv_dataset
from .data import Dataset
from .toydata import make_dataset

__all__ = ["dataset_to_spec", "dataset_from_spec"]

_SPLIT_KEYS = ("split", "train_fraction", "standardize")
_KINDS = {"builtin": {"name", "n_points", "n_classes", "noise", *_SPLIT_KEYS},
          "csv": {"text", "label", "features", "name", *_SPLIT_KEYS},
          "arrays": {"name", "X_train", "y_train", "X_test", "y_test", "feature_names",
                     "class_names", "train_indices", "test_indices", "center", "scale"}}


def dataset_to_spec(ds: Dataset) -> dict:
    """A JSON-safe spec that rebuilds exactly this Dataset (floats round-trip in JSON)."""
    std = ds.standardized
    return {"kind": "arrays", "name": ds.name, "X_train": ds.X_train.tolist(),
            "y_train": ds.y_train.tolist(), "X_test": ds.X_test.tolist(),
            "y_test": ds.y_test.tolist(), "feature_names": list(ds.feature_names),
            "class_names": list(ds.class_names), "train_indices": ds.train_indices.tolist(),
            "test_indices": ds.test_indices.tolist(),
            "center": ds.feature_center.tolist() if std else None,
            "scale": ds.feature_scale.tolist() if std else None}


def dataset_from_spec(spec, seed: int = 1, sample_kind: str = "rounding") -> Dataset | None:
    """The Dataset a spec names (None for None: the Trainer's own iris); ValueError if bad."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("kind") not in _KINDS:
        raise ValueError(f"a data set spec must be None or a mapping with kind "
                         f"{', '.join(map(repr, _KINDS))}")
    kind, rest = spec["kind"], {k: v for k, v in spec.items() if k != "kind"}
    unknown = set(rest) - _KINDS[kind]
    if unknown:
        raise ValueError(f"unknown key(s) in a {kind} data set spec: "
                         f"{', '.join(sorted(map(str, unknown)))}")
    if kind == "builtin":
        return make_dataset(seed=seed, sample_kind=sample_kind, **rest)
    if kind == "csv":
        if "text" not in rest:
            raise ValueError("a csv data set spec needs the CSV's text")
        text = rest.pop("text")
        return csv_dataset(text, seed=seed, sample_kind=sample_kind, **rest)
    missing = _KINDS["arrays"] - set(rest)
    if missing:
        raise ValueError(f"an arrays data set spec needs {', '.join(sorted(missing))}")
    try:
        return Dataset(name=rest["name"], X_train=np.array(rest["X_train"], np.float64),
                       y_train=np.array(rest["y_train"], np.int64),
                       X_test=np.array(rest["X_test"], np.float64),
                       y_test=np.array(rest["y_test"], np.int64),
                       feature_names=rest["feature_names"], class_names=rest["class_names"],
                       train_indices=rest["train_indices"], test_indices=rest["test_indices"],
                       feature_center=rest["center"], feature_scale=rest["scale"])
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"malformed arrays data set spec: {exc}") from None
