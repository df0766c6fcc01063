"""Where a run's data comes from, and the one function that makes every new run.

    new_trainer(settings, store, sid)    # validated Settings -> a Trainer on the chosen data

The data controls (validation.data_settings) name a built-in set of mlpcore.toydata, made from
the run's seed, or CSV: this tab's uploaded file, kept by the session store as a JSON spec
(`store.put_data` / `store.get_data`, read only here, when a run is created; mlpcore's
dataspec "csv" kind). Iris with the document's split and raw features is the Trainer's own
data (dataset None), so the document's run stays exactly main.R's.

Uploads: `parse_upload(raw, label)` parses with the caps of limits.py (mlpcore's DataError
carries the parser's exact sentence) and checks the shape (validation.check_data_shape).
"""

from __future__ import annotations

import json

from mlpcore import Config, DataError, Dataset, Trainer, make_dataset, split_dataset
from mlpcore.csvdata import CsvData, parse_csv

from .limits import LIMITS, Limits
from .validation import (
    CSV,
    IRIS,
    MAX_NAME_CHARS,
    ControlError,
    DataShape,
    Settings,
    check_data_shape,
    check_run,
    data_settings,
    shape_of,
)

MISSING_CSV = ("Your CSV is no longer on the server (its session expired): upload it again in "
               "the Data tab, or choose a built-in data set.")


class MissingData(ControlError):
    """The controls ask for this tab's CSV, and the store has none for the session."""


def run_config(settings: Settings) -> Config:
    """The Config for validated settings: the document's run with the controls applied (not
    checked against the limits: check_run does that with the data's shape)."""
    return Config.document().replace(
        seed=settings.seed, hidden=(settings.hidden,) * settings.layers,
        activation=settings.activation, lr=settings.lr, reg=settings.reg,
        maxit=settings.maxit, display=settings.display)


# ------------------------------------------------------------------------------ uploads
def parse_upload(raw: bytes | str, label: str | None, limits: Limits = LIMITS,
                 check_split: bool = True) -> CsvData:
    """The upload (or a stored CSV's text) as a CsvData, with the caps of limits.py, checked
    as a run will use it: DataError (the parser's or the split's own sentence) or
    ControlError (a cap of limits.py)."""
    d = parse_csv(raw, label, max_bytes=limits.max_upload_bytes,
                  max_rows=limits.max_upload_rows, max_columns=limits.max_upload_columns)
    check_data_shape(DataShape(len(d.feature_names), len(d.class_names), len(d.y), 0), limits)
    if check_split:  # every class needs 2 rows (one to train on, one to test on)
        split_dataset(d.X, d.y, d.feature_names, d.class_names, name="check")
    return d


def csv_spec(raw: bytes, label: str, filename: str) -> str:
    """The JSON a session keeps for its CSV (mlpcore.dataspec's "csv" kind, split settings
    left to the controls). `raw` was parsed already, so it is UTF-8 text."""
    text = raw.decode("utf-8-sig")
    return json.dumps({"kind": "csv", "text": text, "label": label, "name": filename},
                      ensure_ascii=False)


def load_spec(spec: str | None) -> dict | None:
    """A stored spec as a dict, or None when there is none or it is not one of ours."""
    try:
        d = json.loads(spec) if isinstance(spec, str) else None
    except ValueError:
        return None
    ok = (isinstance(d, dict) and d.get("kind") == "csv" and isinstance(d.get("text"), str)
          and isinstance(d.get("label"), str) and isinstance(d.get("name"), str)
          and len(d["name"]) <= MAX_NAME_CHARS)
    return d if ok else None


# ---------------------------------------------------------------------------- new runs
def build_dataset(data: dict, seed: int, spec: dict | None,
                  parsed: CsvData | None = None) -> Dataset | None:
    """The Dataset for normalised data settings (validation.data_settings); None for iris
    with the document's split and raw features (the Trainer makes it). For CSV: `spec`'s
    text (parsed here, unless `parsed` holds it already), split with the run's seed as
    mlpcore.csv_dataset does. DataError if the data cannot be parsed, split or
    standardised; MissingData for a CSV the store does not have."""
    split = {"split": data["split"], "train_fraction": data["train_fraction"],
             "standardize": data["standardize"]}
    if data["data"] == CSV:
        if spec is None:
            raise MissingData(MISSING_CSV)
        d = parsed or parse_upload(spec["text"], spec["label"], check_split=False)
        return split_dataset(d.X, d.y, d.feature_names, d.class_names, name=spec["name"],
                             seed=seed, **split)
    if data["data"] == "iris" and data["split"] == "document" and not data["standardize"]:
        return None
    params = {"n_points": data["points"], "n_classes": data["classes"], "noise": data["noise"]}
    return make_dataset(data["data"], seed, **params, **split)


def new_trainer(settings: Settings, store, sid: str, spec: dict | None = None,
                parsed: CsvData | None = None) -> Trainer:
    """A new run for validated settings: the data the data controls choose (for CSV `spec`,
    parsed already in `parsed`, or the session's stored spec), the network the run controls
    choose. ControlError (with a sentence) when the data cannot be used or the run would not
    fit the limits."""
    data = data_settings(settings)
    if data["data"] == CSV and spec is None:
        spec, parsed = load_spec(store.get_data(sid)), None
    try:
        dataset = build_dataset(data, settings.seed, spec, parsed)
    except DataError as exc:
        raise ControlError(f"This data cannot be used: {exc}.") from None
    shape = IRIS if dataset is None else check_data_shape(shape_of(dataset))
    return Trainer(check_run(run_config(settings), shape), dataset)


def data_meta(settings: Settings, trainer: Trainer) -> dict:
    """What a session records of its run's data (meta["data"], a few dozen bytes): the
    normalised data settings, and for a CSV its file name."""
    data = data_settings(settings)
    if data["data"] == CSV:
        data["file"] = trainer.dataset.name
    return data
