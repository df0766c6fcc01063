"""Config: a run's settings, validated, immutable, JSON-safe."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from .activations import ACTIVATIONS
from .rrandom import SAMPLE_KINDS

__all__ = ["Config", "MAX_HIDDEN_UNITS", "MAX_HIDDEN_LAYERS", "MAX_ITERATIONS"]

MAX_HIDDEN_UNITS = 4096
MAX_HIDDEN_LAYERS = 8
MAX_ITERATIONS = 10**8
MAX_LR = 1e3
MAX_REG = 1e3
MAX_INIT_SCALE = 1e3
MAX_BATCH = 10**8


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _whole(name: str, v, lo: int, hi: int, what: str) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, got {v!r}")
    return int(v)


def real_value(v) -> float:
    """`v` as a float when it is a real number (not a bool); NaN when it is not a number, and
    ±inf for an integer too large for a float (float() would raise OverflowError): the
    callers' range checks then refuse it with their own ValueError."""
    if not isinstance(v, (int, float, np.integer, np.floating)) or \
            isinstance(v, (bool, np.bool_)):
        return math.nan
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _real(name: str, v, lo: float, hi: float, what: str, lo_open: bool = False) -> float:
    x = real_value(v)
    ok = not math.isnan(x)
    if not ok or not math.isfinite(x) or x > hi or x < lo or (lo_open and x == lo):
        bound = f"greater than {lo:g}" if lo_open else f"at least {lo:g}"
        raise ValueError(f"{what} must be a finite number {bound} and at most {hi:g}, got {v!r}")
    return x


@dataclass(frozen=True)
class Config:
    """Settings of one training run; the defaults are main.R's (see Config.document()).

    seed: set.seed() for the split (when the Trainer makes it) and, again, for the weights.
    hidden: units per hidden layer, an int or a sequence (stored as a tuple of ints).
    activation: a key of ACTIVATIONS. lr, reg: gradient step and L2 factor (reg * sum W^2 / 2).
    maxit, abstol: R's ``while (i < maxit && loss > abstol)``. display: history every n steps.
    init_scale: W = init_scale * rnorm(...). batch_size: None (or >= N) is the document's full
    batch; B < N samples B training rows per iteration, ``sample.int(N, B)`` from the run's
    generator. sample_kind: R's sample.kind, "rounding" (R < 3.6, the document) or
    "rejection" (R >= 3.6), for the split and the mini-batches.
    Invalid values raise ValueError with a sentence naming the setting.
    """

    seed: int = 1
    hidden: tuple = (6,)
    activation: str = "relu"
    lr: float = 0.01
    reg: float = 1e-3
    maxit: int = 3000
    abstol: float = 1e-2
    display: int = 50
    init_scale: float = 0.01
    batch_size: int | None = None
    sample_kind: str = "rounding"

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "seed", _whole("seed", self.seed, -(2**31) + 1, 2**31 - 1, "seed"))
        hidden = self.hidden
        if _is_int(hidden):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise ValueError(f"hidden must be a number of units or a list of them, got {hidden!r}")
        try:  # refuse a huge sequence before copying it
            too_long = hasattr(hidden, "__len__") and len(hidden) > MAX_HIDDEN_LAYERS
        except (OverflowError, TypeError):
            too_long = True
        if too_long:
            raise ValueError(f"hidden must list from 1 to {MAX_HIDDEN_LAYERS} layers, "
                             "got more than that")
        hidden = tuple(hidden)
        if not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden must list from 1 to {MAX_HIDDEN_LAYERS} layers, "
                             f"got {len(hidden)}")
        s(self, "hidden", tuple(_whole("hidden", h, 1, MAX_HIDDEN_UNITS, "hidden units")
                                for h in hidden))
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        s(self, "lr", _real("lr", self.lr, 0.0, MAX_LR, "learning rate", lo_open=True))
        s(self, "reg", _real("reg", self.reg, 0.0, MAX_REG, "regularisation"))
        s(self, "maxit", _whole("maxit", self.maxit, 1, MAX_ITERATIONS, "maxit"))
        s(self, "abstol", _real("abstol", self.abstol, 0.0, math.inf, "abstol"))
        s(self, "display", _whole("display", self.display, 1, MAX_ITERATIONS, "display"))
        s(self, "init_scale", _real("init_scale", self.init_scale, 0.0, MAX_INIT_SCALE,
                                    "init scale", lo_open=True))
        if self.batch_size is not None:
            s(self, "batch_size", _whole("batch_size", self.batch_size, 1, MAX_BATCH,
                                         "batch size"))
        if not isinstance(self.sample_kind, str) or self.sample_kind not in SAMPLE_KINDS:
            raise ValueError(f"sample kind must be one of {', '.join(SAMPLE_KINDS)}, "
                             f"got {self.sample_kind!r}")

    @classmethod
    def document(cls) -> Config:
        """main.R's settings: seed 1, hidden 6, maxit 3000, display 50, lr 0.01, reg 1e-3,
        abstol 1e-2 (train.dnn's defaults apart from maxit and display)."""
        return cls(seed=1, hidden=(6,), activation="relu", lr=0.01, reg=1e-3, maxit=3000,
                   abstol=1e-2, display=50, init_scale=0.01, batch_size=None,
                   sample_kind="rounding")

    def replace(self, **changes) -> Config:
        """A new validated Config with some fields changed."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = {f: getattr(self, f) for f in _FIELDS}
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d) -> Config:
        if not isinstance(d, dict):
            raise ValueError("a config must be a mapping of setting names to values")
        unknown = set(d) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(map(str, unknown)))}")
        return cls(**d)


_FIELDS = tuple(f.name for f in fields(Config))
