"""Built-in data sets: iris and five 2-D pictures, drawn from R's generator for a given seed.

``DATASETS`` is the registry (name -> Builtin, iris first); each entry lists its
parameters with ranges and defaults, from which a UI can build its sliders.
``make_dataset(name, seed, ...)`` returns a split Dataset. The draws follow R: after
``set.seed(seed)`` the generator makes the points (class by class, in the order each
function's docstring gives as R code) and then, continuing the same stream, the split
(`splits.py`). Iris draws nothing, so it gets exactly the document's split.

``n_points`` is the number of points *per class* (CS231n's N), so a set has
``n_points * n_classes`` rows; features are named x1, x2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import real_value
from .data import DataError, Dataset, load_iris
from .rrandom import RRandom
from .splits import check_seed, split_dataset

__all__ = ["Param", "Builtin", "DATASETS", "make_dataset"]


@dataclass(frozen=True)
class Param:
    """One setting of a built-in set: make_dataset's keyword ``name``, a slider's range."""

    name: str  # "n_points", "n_classes" or "noise"
    label: str
    min: float
    max: float
    step: float
    default: float
    integer: bool


@dataclass(frozen=True)
class Builtin:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    generate: Callable | None  # (rng, n_points, n_classes, noise) -> (X, y, class_names)


def _seq(a: float, b: float, n: int) -> np.ndarray:
    """R's ``seq(a, b, length.out = n)``: numpy's linspace does the same arithmetic
    (``a + i * by``, the last value exactly b)."""
    return np.linspace(a, b, n)


def spiral(rng: RRandom, n_points: int, n_classes: int, noise: float):
    """CS231n's spiral, K arms of N points::

        for (j in 0:(K - 1)) {
          r <- seq(0, 1, length.out = N)
          t <- seq(j * 4, (j + 1) * 4, length.out = N) + rnorm(N) * noise
          X <- rbind(X, cbind(r * sin(t), r * cos(t)))
        }
    """
    X, y = [], []
    for j in range(n_classes):
        r = _seq(0.0, 1.0, n_points)
        t = _seq(j * 4.0, (j + 1) * 4.0, n_points) + rng.rnorm(n_points) * noise
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_points, j))
    return np.vstack(X), np.concatenate(y), [f"arm {j + 1}" for j in range(n_classes)]


def circles(rng: RRandom, n_points: int, n_classes: int, noise: float):
    """Two rings, radius r = 1 ("outer") and r = 0.5 ("inner"); per ring::

        t <- 2 * pi * runif(N)
        x1 <- r * cos(t) + noise * rnorm(N); x2 <- r * sin(t) + noise * rnorm(N)
    """
    X, y = [], []
    for k, radius in enumerate((1.0, 0.5)):
        t = 2 * math.pi * rng.runif(n_points)
        x1 = radius * np.cos(t) + noise * rng.rnorm(n_points)
        x2 = radius * np.sin(t) + noise * rng.rnorm(n_points)
        X.append(np.column_stack([x1, x2]))
        y.append(np.full(n_points, k))
    return np.vstack(X), np.concatenate(y), ["outer", "inner"]


def xor(rng: RRandom, n_points: int, n_classes: int, noise: float):
    """XOR in the square (-1, 1)^2: "same sign" (x1 * x2 > 0) and "opposite sign"; per class
    (s = +1 for "same sign", -1 for "opposite sign")::

        x1 <- 2 * runif(N) - 1; x2 <- s * ifelse(x1 < 0, -1, 1) * runif(N)
        x1 <- x1 + noise * rnorm(N); x2 <- x2 + noise * rnorm(N)
    """
    X, y = [], []
    for k, same in enumerate((1.0, -1.0)):
        x1 = 2 * rng.runif(n_points) - 1
        x2 = same * np.where(x1 < 0, -1.0, 1.0) * rng.runif(n_points)
        x1 = x1 + noise * rng.rnorm(n_points)
        x2 = x2 + noise * rng.rnorm(n_points)
        X.append(np.column_stack([x1, x2]))
        y.append(np.full(n_points, k))
    return np.vstack(X), np.concatenate(y), ["same sign", "opposite sign"]


def blobs(rng: RRandom, n_points: int, n_classes: int, noise: float):
    """K Gaussian blobs with sd ``noise`` around centres evenly spaced on a circle of
    radius 2; for k in 0:(K - 1), a = 2 * pi * k / K::

        x1 <- 2 * cos(a) + noise * rnorm(N); x2 <- 2 * sin(a) + noise * rnorm(N)
    """
    X, y = [], []
    for k in range(n_classes):
        a = 2 * math.pi * k / n_classes
        x1 = 2 * math.cos(a) + noise * rng.rnorm(n_points)
        x2 = 2 * math.sin(a) + noise * rng.rnorm(n_points)
        X.append(np.column_stack([x1, x2]))
        y.append(np.full(n_points, k))
    return np.vstack(X), np.concatenate(y), [f"blob {k + 1}" for k in range(n_classes)]


def moons(rng: RRandom, n_points: int, n_classes: int, noise: float):
    """Two interleaved half circles (scikit-learn's make_moons shape), random angles::

        t <- pi * runif(N)
        upper: x1 <- cos(t),     x2 <- sin(t)
        lower: x1 <- 1 - cos(t), x2 <- 0.5 - sin(t)
        then x1 <- x1 + noise * rnorm(N); x2 <- x2 + noise * rnorm(N)
    """
    X, y = [], []
    for k in range(2):
        t = math.pi * rng.runif(n_points)
        x1, x2 = (np.cos(t), np.sin(t)) if k == 0 else (1 - np.cos(t), 0.5 - np.sin(t))
        x1 = x1 + noise * rng.rnorm(n_points)
        x2 = x2 + noise * rng.rnorm(n_points)
        X.append(np.column_stack([x1, x2]))
        y.append(np.full(n_points, k))
    return np.vstack(X), np.concatenate(y), ["upper", "lower"]


def _points(default: int = 100) -> Param:
    return Param("n_points", "Points per class", 10, 1000, 10, default, True)


def _classes(default: int = 3) -> Param:
    return Param("n_classes", "Classes", 2, 10, 1, default, True)


def _noise(default: float, hi: float) -> Param:
    return Param("noise", "Noise (sd)", 0.0, hi, 0.05, default, False)


DATASETS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("iris", "Iris (the document's data)",
            "R's iris: 150 flowers, 4 measurements, 3 species; the document's split.",
            (), None),
    Builtin("spiral", "Spiral (CS231n)",
            "K spiral arms of N points each; noise is the sd of the angle, in radians.",
            (_points(), _classes(3), _noise(0.2, 1.0)), spiral),
    Builtin("circles", "Two circles",
            "A ring of radius 0.5 inside a ring of radius 1; noise is the sd of each coordinate.",
            (_points(), _noise(0.1, 0.5)), circles),
    Builtin("xor", "XOR",
            "Points in the square (-1, 1)^2, classed by the sign of x1 * x2; noise as circles.",
            (_points(), _noise(0.1, 0.5)), xor),
    Builtin("blobs", "Gaussian blobs",
            "K round clusters on a circle of radius 2; noise is each cluster's sd.",
            (_points(), _classes(3), _noise(0.5, 2.0)), blobs),
    Builtin("moons", "Two moons",
            "Two interleaved half circles; noise is the sd of each coordinate.",
            (_points(), _noise(0.1, 0.5)), moons),
)}


_WORDS = {"n_points": "points", "n_classes": "classes", "noise": "noise"}


def _value(p: Param, v):
    x = real_value(v)  # NaN for a non-number, ±inf for a huge integer
    ok = not p.integer or x.is_integer()
    if not ok or not p.min <= x <= p.max:  # also rejects NaN and ±inf
        kind = "a whole number" if p.integer else "a number"
        raise DataError(f"{p.label.lower()} must be {kind} from {p.min:g} to {p.max:g}, "
                        f"got {v!r}")
    return int(v) if p.integer else float(v)


def make_dataset(name: str = "iris", seed: int = 1, *, n_points: int | None = None,
                 n_classes: int | None = None, noise: float | None = None,
                 split: str = "document", train_fraction: float | None = None,
                 standardize: bool = False, sample_kind: str = "rounding") -> Dataset:
    """A built-in data set, generated and split from ``seed``.

    n_points / n_classes / noise: None takes the set's default; a value for a setting the
    set does not have (e.g. ``noise`` for iris, ``n_classes`` for circles) is a DataError.
    split, train_fraction, standardize, sample_kind: see ``splits.split_dataset``.
    ``make_dataset("iris", seed)`` equals ``document_split`` of iris with that seed.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; the built-in data sets are "
                        f"{', '.join(DATASETS)}")
    seed = check_seed(seed)
    b = DATASETS[name]
    given = {"n_points": n_points, "n_classes": n_classes, "noise": noise}
    known = {p.name: p for p in b.params}
    for key, v in given.items():
        if v is not None and key not in known:
            raise DataError(f"the {name} data set has no {_WORDS[key]} setting")
    values = {k: _value(p, p.default if given[k] is None else given[k])
              for k, p in known.items()}
    rng = RRandom(seed)
    if b.generate is None:
        X, y, features, classes = load_iris()
    else:
        X, y, classes = b.generate(rng, values["n_points"], values.get("n_classes", 2),
                                   values.get("noise", 0.0))
        features = ["x1", "x2"]
    return split_dataset(X, y, features, classes, name=name, rng=rng, split=split,
                         train_fraction=train_fraction, standardize=bool(standardize),
                         sample_kind=sample_kind)
