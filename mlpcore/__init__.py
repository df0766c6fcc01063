"""MLP Lab's core: the document's from-scratch network (pure numpy), reproducing its R run.

    from mlpcore import Config, Trainer
    t = Trainer(Config.document())
    t.step(3000)

Other data: ``make_dataset("spiral", seed=1)`` (built-ins in DATASETS) or
``csv_dataset(uploaded_bytes, label="species")``; bad data raises DataError (a ValueError).
"""

from .activations import ACTIVATIONS
from .boundary import boundary_grid
from .config import Config
from .csvdata import (
    MAX_CLASSES,
    MAX_COLUMNS,
    MAX_CSV_BYTES,
    MAX_ROWS,
    CsvData,
    csv_dataset,
    parse_csv,
)
from .data import DataError, Dataset, document_split, load_csv, load_iris
from .dataspec import dataset_from_spec, dataset_to_spec
from .divergence import explain_divergence
from .export import history_to_csv, load_model, model_from_json, model_to_json
from .gradcheck import gradient_report
from .health import health_hints
from .history import History
from .plain import to_plain
from .rrandom import RRandom
from .rscript import r_script, r_script_problems
from .splits import SPLITS, TRAIN_FRACTION, split_dataset

# A function named like its module is imported from the module (from mlpcore.sweep import
# sweep, mlpcore.anatomy import anatomy, mlpcore.health import health): re-exported here it
# would hide the module (mlpcore.health would be the function).
from .sweep import SweepResult, sweep_cell, sweep_tasks
from .toydata import DATASETS, make_dataset
from .trainer import Trainer
from .urlstate import UrlBounds, query_to_settings, settings_to_query

__all__ = ["ACTIVATIONS", "Config", "Dataset", "History", "RRandom", "Trainer",
           "document_split", "load_csv", "load_iris",
           "DataError", "DATASETS", "make_dataset", "SPLITS", "TRAIN_FRACTION", "split_dataset",
           "CsvData", "parse_csv", "csv_dataset", "MAX_CSV_BYTES", "MAX_ROWS", "MAX_COLUMNS",
           "MAX_CLASSES",
           "model_to_json", "model_from_json", "load_model", "history_to_csv", "r_script",
           "r_script_problems", "sweep_cell", "sweep_tasks", "SweepResult",
           "dataset_to_spec", "dataset_from_spec", "settings_to_query", "query_to_settings",
           "UrlBounds",
           "gradient_report", "boundary_grid", "health_hints",
           "explain_divergence", "to_plain"]
__version__ = "0.1.0"
