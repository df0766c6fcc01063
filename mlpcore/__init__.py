"""MLP Lab's core: the document's from-scratch network (pure numpy), reproducing its R run.

    from mlpcore import Config, Trainer
    t = Trainer(Config.document())
    t.step(3000)
"""

from .activations import ACTIVATIONS
from .config import Config
from .data import Dataset, document_split, load_csv, load_iris
from .history import History
from .rrandom import RRandom
from .trainer import Trainer

__all__ = ["ACTIVATIONS", "Config", "Dataset", "History", "RRandom", "Trainer",
           "document_split", "load_csv", "load_iris"]
__version__ = "0.1.0"
