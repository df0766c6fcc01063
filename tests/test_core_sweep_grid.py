"""The lr x reg sweep: each cell is an ordinary Trainer run, the same numbers in any order,
in any process, via sweep() or via sweep_cell() calls with JSON arguments."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

import mlpcore.sweep as sweep_module
from mlpcore import Config, Trainer, make_dataset
from mlpcore.dataspec import dataset_from_spec, dataset_to_spec
from mlpcore.sweep import (
    MAX_SWEEP_ITERATIONS,
    SweepResult,
    sweep,
    sweep_cell,
    sweep_tasks,
)

BASE = Config.document()
LRS = [0.5, 0.05, 0.01]
REGS = [0.0, 1e-3]
SPIRAL = {"kind": "builtin", "name": "spiral", "n_points": 30, "n_classes": 3, "noise": 0.2,
          "split": "fraction", "train_fraction": 0.6, "standardize": True}


@pytest.fixture(scope="module")
def iris_sweep():
    return sweep(BASE, LRS, REGS, 600)


def test_every_cell_is_an_independent_trainer_run(iris_sweep):
    r = iris_sweep
    assert r.state == "complete" and r.done == r.total == 6
    for i, reg in enumerate(REGS):
        for j, lr in enumerate(LRS):
            t = Trainer(BASE.replace(lr=lr, reg=reg, maxit=600))  # base display: 50
            t.step(600)
            cell = r.cells[i][j]
            assert (cell["lr"], cell["reg"], cell["status"]) == (lr, reg, t.status)
            assert cell["iterations"] == t.iteration
            assert cell["loss"] == t.loss
            assert cell["test_accuracy"] == t.accuracy("test")
            assert cell["train_accuracy"] == t.accuracy("train")
            assert r.grid("test_accuracy")[i][j] == t.accuracy("test")
            assert r.cell_config(i, j) == BASE.replace(lr=lr, reg=reg, maxit=600)
    accs = [c["test_accuracy"] for row in r.cells for c in row]
    assert len(set(accs)) > 1  # the grid is not flat, so the comparisons above mean something
    best = r.best()
    assert best["test_accuracy"] == max(accs)


def test_same_grid_same_numbers_in_any_order_and_process(iris_sweep):
    again = sweep(BASE, LRS, REGS, 600)
    assert again.to_dict() == iris_sweep.to_dict()
    reverse = sweep(BASE, LRS[::-1], REGS[::-1], 600)
    for i in range(len(REGS)):
        for j in range(len(LRS)):
            assert reverse.cells[len(REGS) - 1 - i][len(LRS) - 1 - j] == iris_sweep.cells[i][j]
    tasks = sweep_tasks(BASE.to_dict(), LRS, REGS, 600)
    json.dumps(tasks)  # JSON only, as a Celery task receives them
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, nothing inherited
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        futures = [pool.submit(sweep_cell, **kw) for kw in reversed(tasks)]
        cells = [f.result() for f in futures]
    assembled = SweepResult.from_cells(BASE.to_dict(), LRS, REGS, 600, cells)
    assert assembled.to_dict() == iris_sweep.to_dict()


def test_dataset_specs_give_the_same_cells_everywhere():
    spec = json.loads(json.dumps(SPIRAL))
    ds = dataset_from_spec(spec, seed=BASE.seed, sample_kind=BASE.sample_kind)
    assert ds.standardized and ds.name == "spiral"
    via_spec = sweep(BASE, [0.3, 1.0], [1e-3], 300, spec)
    via_dataset = sweep(BASE, [0.3, 1.0], [1e-3], 300, ds)
    assert via_spec.to_dict() == via_dataset.to_dict()
    arrays = json.loads(json.dumps(dataset_to_spec(ds)))
    rebuilt = dataset_from_spec(arrays)
    for name in ("X_train", "X_test", "y_train", "y_test", "train_indices", "feature_scale"):
        assert (getattr(rebuilt, name) == getattr(ds, name)).all()
    cell = sweep_cell(BASE.to_dict(), 1.0, 1e-3, 300, arrays)
    task = sweep_tasks(BASE, [1.0], [1e-3], 300, ds)[0]
    assert sweep_cell(**json.loads(json.dumps(task))) == cell
    assert cell == via_spec.cells[0][1] == sweep_cell(BASE.to_dict(), 1.0, 1e-3, 300, spec)
    t = Trainer(BASE.replace(lr=1.0, reg=1e-3, maxit=300), make_dataset(
        "spiral", seed=1, n_points=30, n_classes=3, noise=0.2, split="fraction",
        train_fraction=0.6, standardize=True))
    t.step(300)
    assert cell["test_accuracy"] == t.accuracy("test") and cell["loss"] == t.loss
    csv_text = "a,b,y\n" + "".join(f"{i % 7},{i * i % 5},{'pq'[i % 2]}\n" for i in range(40))
    csv_spec = {"kind": "csv", "text": csv_text, "name": "up.csv"}
    assert sweep_cell(BASE.to_dict(), 0.1, 0.0, 50, csv_spec)["iterations"] == 50


def test_diverged_cells_are_marked_and_json_safe():
    r = sweep(Config(seed=2024, hidden=(16,)), [10.0, 0.01], [1e-3], 100)
    bad, good = r.cells[0]
    assert bad["status"] == "diverged" and bad["loss"] is None
    assert "Diverged at iteration" in bad["message"]
    assert good["status"] == "maxit" and r.best() == good
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert SweepResult.from_dict(json.loads(text)).to_dict() == r.to_dict()


def test_progress_and_cooperative_cancel(monkeypatch):
    seen = []
    r = sweep(BASE, [0.1, 0.01], [0.0, 1e-3], 20, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    calls = []
    r = sweep(BASE, [0.1, 0.01], [0.0, 1e-3], 20, on_progress=lambda d, t: calls.append(d),
              should_stop=lambda: len(calls) >= 2)
    assert r.state == "cancelled" and r.done == 2
    assert r.grid("status") == [["maxit", "maxit"], [None, None]]
    # a long cell is cut between chunks, not only between cells
    monkeypatch.setattr(sweep_module, "CHUNK", 10)
    checks = []
    r = sweep(BASE, [0.1], [0.0], 1000, should_stop=lambda: checks.append(1) or len(checks) > 3)
    assert r.state == "cancelled" and r.done == 0 and len(checks) == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"lrs": []}, "give from 1 to 8 learning rates"),
    ({"lrs": [0.1] * 9}, "give from 1 to 8 learning rates"),
    ({"lrs": "0.1"}, "give from 1 to 8 learning rates"),
    ({"lrs": [0.1, 0.1]}, "must all be different"),
    ({"lrs": [-1.0]}, "learning rate must be a finite number"),
    ({"regs": [float("nan")]}, "regularisation must be a finite number"),
    ({"iterations": 0}, "iterations must be a whole number from 1 to 20,000"),
    ({"iterations": MAX_SWEEP_ITERATIONS + 1}, "iterations must be"),
    ({"iterations": 10.0}, "iterations must be"),
    ({"base_config": {"hidden": [64, 64, 64, 64]}, "iterations": 20000, "lrs": [0.1, 0.2],
      "regs": [0, 1e-3, 1e-2, 1e-1]}, "this sweep is too big"),
    ({"dataset": {"kind": "builtin", "name": "nope"}}, "unknown data set"),
    ({"dataset": {"kind": "csv", "text": ""}}, "the file is empty"),
    ({"dataset": {"kind": "builtin", "name": "xor", "colour": 1}}, "unknown key"),
    ({"dataset": {"kind": "pickle"}}, "a data set spec must be None or a mapping"),
])
def test_bad_grids_are_refused_with_a_sentence(kwargs, message):
    args = {"base_config": BASE, "lrs": [0.1], "regs": [0.0], "iterations": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        sweep(**args)


def test_from_cells_refuses_foreign_cells(iris_sweep):
    cell = dict(iris_sweep.cells[0][0], lr=0.123)
    with pytest.raises(ValueError, match="of this grid"):
        SweepResult.from_cells(BASE, LRS, REGS, 600, [cell])
    partial = SweepResult.from_cells(BASE, LRS, REGS, 600, [iris_sweep.cells[1][2]])
    assert partial.state == "cancelled" and partial.done == 1
    assert partial.cells[1][2] == iris_sweep.cells[1][2]
    with pytest.raises(ValueError, match="cell field"):
        partial.grid("nope")


def test_best_prefers_a_loss_of_zero_to_any_other_on_equal_accuracy():
    from mlpcore.sweep import SweepResult

    def cell(loss):
        return {"test_accuracy": 1.0, "loss": loss, "status": "abstol"}

    r = SweepResult(config=Config.document().to_dict(), lrs=[0.1, 1.0], regs=[0.0],
                    iterations=100, cells=[[cell(0.01), cell(0.0)]])
    assert r.best()["loss"] == 0.0
