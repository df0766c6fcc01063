"""A learning rate x regularisation sweep: one Trainer per grid cell, the same numbers anywhere.

    result = sweep(Config.document(), lrs=[0.1, 0.01], regs=[0, 1e-3], iterations=2000)
    result.grid("test_accuracy")          # rows = regs, columns = lrs; None where not run

Distributed (Celery): every argument of ``sweep_cell`` is JSON, so a task can call it::

    tasks = sweep_tasks(config, lrs, regs, iterations, dataset_spec)   # validated kwargs
    cells = [sweep_cell(**kw) for kw in tasks]                         # anywhere, any order
    result = SweepResult.from_cells(config, lrs, regs, iterations, cells)

and the result equals ``sweep(...)`` on the same grid: a cell is a fresh Trainer on the same
data (the split comes from the config's seed), run with ``step()``, which does not depend on
how its iterations are chunked, on the machine's thread count or on the other cells.

A cell trains ``base.replace(lr=lr, reg=reg, maxit=iterations)`` (abstol from the base, so a
cell may stop early): ``loss`` is R's loss of its last iteration, ``test_accuracy`` and
``train_accuracy`` use the final parameters, ``status`` is the Trainer's ("maxit", "abstol",
"diverged"); non-finite numbers are None, and so is the loss of a diverged cell (R's would be
Inf or NaN; its accuracies use the last finite parameters and mean little).

dataset_spec: a JSON data set spec (see dataspec.py): None for iris with the document's
split, a built-in set or CSV text with its split settings, or dataset_to_spec(any Dataset).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .config import Config
from .data import Dataset
from .dataspec import dataset_from_spec, dataset_to_spec
from .network import layer_sizes
from .trainer import Trainer

__all__ = ["MAX_AXIS", "MAX_CELLS", "MAX_SWEEP_ITERATIONS", "MAX_SWEEP_WORK", "SweepResult",
           "sweep", "sweep_cell", "sweep_tasks", "dataset_from_spec", "dataset_to_spec"]

MAX_AXIS = 8  # values per axis
MAX_CELLS = 64
MAX_SWEEP_ITERATIONS = 20_000
MAX_SWEEP_WORK = 10**10  # cells x iterations x parameters x training rows (iris 8x8x20000: 5e9)
CHUNK = 500  # iterations between two looks at should_stop


def _config(base) -> Config:
    if isinstance(base, Config):
        return base
    return Config.from_dict(base)


def _number(v):
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def _run_cell(base: Config, lr: float, reg: float, iterations: int, dataset,
              should_stop=None) -> dict | None:
    """Train one cell; None if should_stop() said so before it finished."""
    config = base.replace(lr=lr, reg=reg, maxit=iterations, display=iterations)
    t = Trainer(config, dataset)
    while not t.done:
        if should_stop is not None and should_stop():
            return None
        t.step(CHUNK)
    has_test = len(t.dataset.y_test) > 0
    return {"lr": config.lr, "reg": config.reg, "status": t.status, "iterations": t.iteration,
            "loss": None if t.status == "diverged" else _number(t.loss),
            "train_accuracy": _number(t.accuracy("train")),
            "test_accuracy": _number(t.accuracy("test")) if has_test else None,
            "message": t.message}


def _axis(values, what: str, check) -> list[float]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or \
            not 1 <= len(values) <= MAX_AXIS:
        raise ValueError(f"give from 1 to {MAX_AXIS} {what}s")
    out = [check(v) for v in values]
    if len(set(out)) != len(out):
        raise ValueError(f"the {what}s must all be different")
    return out


def _plan(base, lrs, regs, iterations, dataset) -> tuple[Config, list, list, int, Dataset]:
    """Validated (config, lrs, regs, iterations, dataset); ValueError with a sentence."""
    base = _config(base)
    lrs = _axis(lrs, "learning rate", lambda v: base.replace(lr=v).lr)
    regs = _axis(regs, "regularisation", lambda v: base.replace(reg=v).reg)
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or \
            not 1 <= iterations <= MAX_SWEEP_ITERATIONS:
        raise ValueError(f"iterations must be a whole number from 1 to "
                         f"{MAX_SWEEP_ITERATIONS:,}, got {iterations!r}")
    cells = len(lrs) * len(regs)
    if cells > MAX_CELLS:
        raise ValueError(f"the grid has {cells} cells; the limit is {MAX_CELLS}")
    if not isinstance(dataset, Dataset):
        dataset = dataset_from_spec(dataset, base.seed, base.sample_kind)
    t = Trainer(base, dataset)  # the data the cells see (and its size)
    sizes = layer_sizes(t.dataset.n_features, base.hidden, t.dataset.n_classes)
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    work = cells * int(iterations) * params * len(t.dataset.y_train)
    if work > MAX_SWEEP_WORK:
        raise ValueError(f"this sweep is too big: {cells} cells x {iterations:,} iterations x "
                         f"{params:,} weights x {len(t.dataset.y_train):,} rows = {work:.2g}; "
                         f"the limit is {MAX_SWEEP_WORK:.0g}. Use fewer cells or iterations.")
    return base, lrs, regs, int(iterations), dataset


def sweep_cell(base_config, lr, reg, iterations, dataset_spec=None) -> dict:
    """One cell from JSON-only arguments (base_config: Config.to_dict()); a JSON-safe dict
    with lr, reg, status, iterations, loss, train_accuracy, test_accuracy, message."""
    base = _config(base_config)
    lrs, regs = [base.replace(lr=lr).lr], [base.replace(reg=reg).reg]
    base, lrs, regs, iterations, dataset = _plan(base, lrs, regs, iterations, dataset_spec)
    return _run_cell(base, lrs[0], regs[0], iterations, dataset)


def sweep_tasks(base_config, lrs, regs, iterations, dataset_spec=None) -> list[dict]:
    """The grid as sweep_cell keyword arguments (JSON-safe), row by row (regs, then lrs);
    validates everything first, as sweep() does. A Dataset is sent as dataset_to_spec()."""
    base, lrs, regs, iterations, _ = _plan(base_config, lrs, regs, iterations, dataset_spec)
    if isinstance(dataset_spec, Dataset):
        dataset_spec = dataset_to_spec(dataset_spec)
    return [{"base_config": base.to_dict(), "lr": lr, "reg": reg, "iterations": iterations,
             "dataset_spec": dataset_spec} for reg in regs for lr in lrs]


_CELL_KEYS = ("lr", "reg", "status", "iterations", "loss", "train_accuracy", "test_accuracy",
              "message")


@dataclass
class SweepResult:
    """A sweep's grid. ``cells[i][j]`` is the cell of ``regs[i]`` and ``lrs[j]`` (a dict as
    sweep_cell returns, or None if it did not run); ``state`` "complete" or "cancelled"."""

    config: dict
    lrs: list
    regs: list
    iterations: int
    cells: list = field(default_factory=list)
    state: str = "complete"

    @property
    def done(self) -> int:
        return sum(c is not None for row in self.cells for c in row)

    @property
    def total(self) -> int:
        return len(self.lrs) * len(self.regs)

    def grid(self, key: str = "test_accuracy") -> list[list]:
        """A heatmap's z: rows = regs, columns = lrs; None where a cell did not run."""
        if key not in _CELL_KEYS:
            raise ValueError(f"no cell field {key!r}; fields: {', '.join(_CELL_KEYS)}")
        return [[None if c is None else c[key] for c in row] for row in self.cells]

    def cell_config(self, i: int, j: int) -> Config:
        """The settings of cell (regs[i], lrs[j]): the base with that lr, reg and maxit."""
        return Config.from_dict(self.config).replace(lr=self.lrs[j], reg=self.regs[i],
                                                     maxit=self.iterations)

    def best(self) -> dict | None:
        """The cell with the highest test accuracy (ties: lowest loss), diverged cells out."""
        ok = [c for row in self.cells for c in row if c is not None and
              c["status"] != "diverged" and c["test_accuracy"] is not None]
        def rank(c):  # a loss of exactly 0 is the best loss, not a missing one
            return c["test_accuracy"], -(math.inf if c["loss"] is None else c["loss"])
        return max(ok, key=rank, default=None)

    def to_dict(self) -> dict:
        return {"config": dict(self.config), "lrs": list(self.lrs), "regs": list(self.regs),
                "iterations": self.iterations, "cells": [list(r) for r in self.cells],
                "state": self.state}

    @classmethod
    def from_dict(cls, d) -> SweepResult:
        if not isinstance(d, dict) or set(d) != {"config", "lrs", "regs", "iterations",
                                                 "cells", "state"}:
            raise ValueError("a sweep result needs config, lrs, regs, iterations, cells, state")
        r = cls.from_cells(d["config"], d["lrs"], d["regs"], d["iterations"],
                           [c for row in d["cells"] for c in row])
        if d["state"] not in ("complete", "cancelled"):
            raise ValueError("a sweep's state is complete or cancelled")
        r.state = d["state"]
        return r

    @classmethod
    def from_cells(cls, base_config, lrs, regs, iterations, cells) -> SweepResult:
        """Assemble a result from cell dicts (any order; None or missing: not run)."""
        base = _config(base_config)
        lrs = _axis(lrs, "learning rate", lambda v: base.replace(lr=v).lr)
        regs = _axis(regs, "regularisation", lambda v: base.replace(reg=v).reg)
        if isinstance(iterations, bool) or not isinstance(iterations, int) or \
                not 1 <= iterations <= MAX_SWEEP_ITERATIONS:
            raise ValueError(f"iterations must be a whole number from 1 to "
                             f"{MAX_SWEEP_ITERATIONS:,}, got {iterations!r}")
        if not isinstance(cells, (list, tuple)):
            raise ValueError("cells must be a list of sweep_cell() results")
        grid = [[None] * len(lrs) for _ in regs]
        for c in cells:
            if c is None:
                continue
            if not isinstance(c, dict) or set(c) != set(_CELL_KEYS) or \
                    c["lr"] not in lrs or c["reg"] not in regs:
                raise ValueError("a cell must be a sweep_cell() result of this grid")
            grid[regs.index(c["reg"])][lrs.index(c["lr"])] = dict(c)
        full = all(c is not None for row in grid for c in row)
        return cls(base.to_dict(), lrs, regs, int(iterations), grid,
                   "complete" if full else "cancelled")


def sweep(base_config, lrs, regs, iterations, dataset=None, on_progress=None,
          should_stop=None) -> SweepResult:
    """Train every (lr, reg) cell for ``iterations`` iterations, row by row.

    dataset: None (iris, document split), a Dataset, or a spec (see the module docstring).
    on_progress(done, total) after each cell; should_stop() -> True cancels (checked before
    each cell and every CHUNK iterations; a cell cut short is left out). ValueError if the
    grid is invalid or over the caps."""
    base, lrs, regs, iterations, dataset = _plan(base_config, lrs, regs, iterations, dataset)
    result = SweepResult(base.to_dict(), lrs, regs, iterations,
                         [[None] * len(lrs) for _ in regs])
    done, total = 0, len(lrs) * len(regs)
    for i, reg in enumerate(regs):
        for j, lr in enumerate(lrs):
            cell = _run_cell(base, lr, reg, iterations, dataset, should_stop)
            if cell is None:
                result.state = "cancelled"
                return result
            result.cells[i][j] = cell
            done += 1
            if on_progress is not None:
                on_progress(done, total)
    return result
