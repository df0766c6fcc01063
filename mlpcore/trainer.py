"""Trainer: the document's training loop, run step by step, with its history and status.

    t = Trainer(Config.document())      # iris, main.R's split and settings
    t.step(3000)                        # R's loop: while (i < maxit && loss > abstol)
    t.history.loss[-1], t.accuracy()    # 0.1191476..., 0.9866667...

Randomness: one RRandom per run, seeded with config.seed, draws W1, W2, ... (rnorm) and
then, with mini-batches, each batch's rows (``sample.int(N, batch_size)`` per iteration,
config.sample_kind). Its state is part of the run and of to_bytes().
"""

from __future__ import annotations

import math

import numpy as np

from . import metrics, network
from .config import Config
from .data import Dataset, document_split, load_iris
from .engine import Engine, layout
from .history import History
from .rrandom import RRandom

__all__ = ["Trainer", "STATUSES", "R_INITIAL_LOSS"]

STATUSES = ("ready", "running", "abstol", "maxit", "diverged")
R_INITIAL_LOSS = 100000.0  # train.dnn: "initialize loss to a very big value"


class Trainer:
    """A training run. ``dataset`` None: iris with document_split(config.seed, sample_kind)."""

    def __init__(self, config: Config, dataset: Dataset | None = None) -> None:
        if not isinstance(config, Config):
            raise ValueError("config must be a mlpcore.Config")
        if dataset is None:
            X, y, features, classes = load_iris()
            dataset = document_split(X, y, seed=config.seed, sample_kind=config.sample_kind,
                                     feature_names=features, class_names=classes)
        elif not isinstance(dataset, Dataset):
            raise ValueError("dataset must be a mlpcore.Dataset or None")
        rng = RRandom(config.seed)
        self._build(config, dataset, rng)
        params = network.init_params(self.sizes, rng, config.init_scale)
        for l, Wa in enumerate(self._engine.Wa, start=1):
            Wa[:-1] = params[f"W{l}"]
            Wa[-1] = 0.0
        self.iteration = 0
        self.loss = R_INITIAL_LOSS
        self._failure = None
        self.status = "ready"
        self._settle()

    def _build(self, config: Config, dataset: Dataset, rng: RRandom) -> None:
        """Buffers and views for config + dataset; parameters left zero."""
        self.config, self.dataset, self._rng = config, dataset, rng
        self.sizes = network.layer_sizes(dataset.n_features, config.hidden, dataset.n_classes)
        theta = np.zeros(layout(self.sizes)[1])
        self._engine = Engine(self.sizes, config.activation, theta, dataset.X_train,
                              dataset.y_train, dataset.X_test, dataset.y_test,
                              config.batch_size)
        self._engine.set_hyper(config.lr, config.reg)
        self._theta = self._engine.theta  # the engine owns the parameter vector
        self.params = {}
        for l, Wa in enumerate(self._engine.Wa, start=1):
            W, b = Wa[:-1], Wa[-1:]
            W.flags.writeable = b.flags.writeable = False  # live, read-only views
            self.params[f"W{l}"], self.params[f"b{l}"] = W, b
        self.history = History()

    # -- running ---------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.status in ("abstol", "maxit", "diverged")

    def step(self, n: int = 1) -> int:
        """Run at most n further iterations; returns how many ran (completed with an update)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"step count must be a whole number >= 0, got {n!r}")
        if self.done or n == 0:
            return 0
        c = self.config
        ran, self.iteration, self.loss, failure = self._engine.run(
            int(n), self.iteration, self.loss, c.maxit, c.abstol, c.display, self._record,
            self._rng, c.sample_kind)
        if failure is None and not np.isfinite(self._theta).all():
            failure = ("params", self.iteration, math.nan)
        if failure is not None:
            self._failure = failure
            self.status = "diverged"
        else:
            self._settle()
        return ran

    def _record(self, i, loss, data_loss, reg_loss, train_acc) -> None:
        test_loss, test_acc = self._engine.evaluate_test()
        self.history.append(i, loss, data_loss, reg_loss, train_acc, test_acc, test_loss)

    def _settle(self) -> None:
        """Status from R's loop condition, once no failure happened."""
        if self.status == "diverged":
            return
        c = self.config
        if not (self.iteration < c.maxit and self.loss > c.abstol):
            self.status = "abstol" if self.loss <= c.abstol else "maxit"
        else:
            self.status = "running" if self.iteration > 0 else "ready"

    def set_hyper(self, lr=None, reg=None, maxit=None) -> None:
        """Change lr / reg (and maxit) between steps; the run continues from where it is."""
        changes = {k: v for k, v in (("lr", lr), ("reg", reg), ("maxit", maxit)) if v is not None}
        if not changes:
            return
        if maxit is not None and isinstance(maxit, int) and maxit < self.iteration:
            raise ValueError(f"maxit must be at least the {self.iteration} iterations already run, "
                             f"got {maxit}")
        self.config = self.config.replace(**changes)
        self._engine.set_hyper(self.config.lr, self.config.reg)
        if self.status in ("running", "maxit", "ready"):
            self.status = "ready" if self.iteration == 0 else "running"
            self._settle()

    # -- what the run says -------------------------------------------------------------------
    @property
    def message(self) -> str:
        """One plain-English sentence (or two) for the current status."""
        c, i = self.config, self.iteration
        if self.status == "ready":
            return f"Ready: nothing has run yet (up to {c.maxit} iterations)."
        if self.status == "diverged":
            return self._diverged_message()
        text = {
            "running": f"Running: {i} of at most {c.maxit} iterations done, "
                       f"loss {self.loss:.7g}.",
            "abstol": f"Converged at iteration {i}: the loss {self.loss:.7g} reached "
                      f"abstol {c.abstol:g}.",
            "maxit": f"Finished: all {c.maxit} iterations ran (maxit); "
                     f"the last loss was {self.loss:.7g}.",
        }[self.status]
        dead = self.dead_units() if c.activation == "relu" and self.dataset.X_train.size <= 10**6 \
            else None
        if dead and dead[0] == c.hidden[0]:
            text += (f" All {dead[0]} ReLU units of the first hidden layer are dead (zero for "
                     f"every training row), so the network can no longer learn: the learning "
                     f"rate {c.lr:g} was too large; lower it and start again.")
        return text

    def _diverged_message(self) -> str:
        kind, i, value = self._failure
        lr = self.config.lr
        advice = (f"Try a smaller learning rate (e.g. {lr / 10:g} instead of {lr:g}) "
                  f"and start again.")
        if kind == "loss":
            what = "infinite" if math.isinf(value) else "NaN (not a number)"
            kept = f"after iteration {i - 1}" if i > 1 else "the initial ones"
            return (f"Diverged at iteration {i}: the loss became {what}, so the run stopped "
                    f"before updating; the parameters are {kept}. {advice}")
        return (f"Diverged after iteration {i}: the parameters became non-finite "
                f"(the update overflowed). {advice}")

    def dead_units(self) -> list[int]:
        """Per hidden layer: units that output 0 for every training row (ReLU's dead units)."""
        X = self.dataset.X_train
        with np.errstate(all="ignore"):  # huge weights may overflow: not worth a warning
            _, (_, hidden_layers) = network.forward(self.params, X, self.config.activation)
        return [int(np.sum(~np.any(h > 0, axis=0))) for h in hidden_layers]

    # -- using the network ---------------------------------------------------------------------
    def _X(self, X) -> np.ndarray:
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError, OverflowError, MemoryError):
            raise ValueError("X must be a table of numbers (rows x features) that fits in "
                             "memory") from None
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (rows, {self.sizes[0]}), got {X.shape}")
        return X

    def predict_proba(self, X) -> np.ndarray:
        """(N, K) class probabilities with the current parameters."""
        X = self._X(X)
        with np.errstate(all="ignore"):  # a diverged run's parameters may overflow
            return network.predict_proba(self.params, X, self.config.activation)

    def predict(self, X) -> np.ndarray:
        """(N,) 0-based classes (predict.dnn's max.col, first maximum on ties)."""
        X = self._X(X)
        with np.errstate(all="ignore"):  # a diverged run's parameters may overflow
            return network.predict(self.params, X, self.config.activation)

    def _split(self, split: str):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        d = self.dataset
        return (d.X_train, d.y_train) if split == "train" else (d.X_test, d.y_test)

    def confusion(self, split: str = "test") -> np.ndarray:
        """(K, K) counts: rows = true class, columns = predicted class."""
        X, y = self._split(split)
        return metrics.confusion(y, self.predict(X), self.dataset.n_classes)

    def accuracy(self, split: str = "test") -> float:
        X, y = self._split(split)
        return metrics.accuracy(y, self.predict(X))

    def gradcheck(self, h: float = 1e-5) -> dict:
        """Max relative error, per parameter, of the analytic vs a central-difference gradient
        of the full loss (data + reg) on the training data, at the current parameters."""
        from .gradcheck import check_params

        d, c = self.dataset, self.config
        return check_params({k: v.copy() for k, v in self.params.items()}, d.X_train,
                            d.y_train, c.reg, c.activation, h)

    # -- saving --------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Safe, versioned bytes (no pickle) from which from_bytes() continues the run exactly."""
        from .serialize import dumps

        return dumps(self)

    @classmethod
    def from_bytes(cls, data, max_bytes: int | None = None) -> Trainer:
        """Inverse of to_bytes(); ValueError on anything malformed, or longer than
        `max_bytes` (checked before parsing; default serialize.MAX_BYTES, 1 GiB)."""
        from .serialize import MAX_BYTES, loads

        return loads(data, MAX_BYTES if max_bytes is None else max_bytes)

    @classmethod
    def _restore(cls, config, dataset, theta, rng, history, iteration, loss, status,
                 failure) -> Trainer:
        self = cls.__new__(cls)
        self._build(config, dataset, rng)
        if theta.shape != self._theta.shape:
            raise ValueError("parameter vector does not match the architecture")
        self._theta[:] = theta
        self.history = history
        self.iteration, self.loss, self.status, self._failure = iteration, loss, status, failure
        return self

    def __repr__(self) -> str:
        return (f"Trainer(hidden={self.config.hidden}, iteration={self.iteration}, "
                f"status={self.status!r})")
