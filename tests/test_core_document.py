"""The document's run (main.R) against R's recording, and the CLI that prints it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpcore import Config, Trainer, document_split, load_iris
from mlpcore.__main__ import run as cli

REF_DIR = Path(__file__).parent / "reference"
RUN = json.loads((REF_DIR / "r_document_run.json").read_text())
ROOT = Path(__file__).resolve().parents[1]


def _rel(a, b) -> float:
    """max |a - b| / max |b|: relative error of a matrix as a whole (R has exact zeros)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def document_run():
    t = Trainer(Config.document())
    losses = []
    # one iteration at a time so every iteration's loss is seen
    while not t.done:
        t.step(1)
        losses.append(t.loss)
    return t, losses


def test_bundled_iris_is_r_iris():
    X, y, features, classes = load_iris()
    with open(REF_DIR / "iris.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert features == rows[0][:4]
    assert classes == ["setosa", "versicolor", "virginica"]
    assert np.array_equal(X, np.array([[float(v) for v in r[:4]] for r in rows[1:]]))
    assert [classes[k] for k in y] == [r[4] for r in rows[1:]]


def test_split_indices_exact():
    X, y, f, c = load_iris()
    ds = document_split(X, y, seed=RUN["config"]["seed"], sample_kind="rounding",
                        feature_names=f, class_names=c)
    assert ds.train_indices.tolist() == RUN["train_indices"]
    assert ds.test_indices.tolist() == RUN["test_indices"]
    assert np.array_equal(ds.X_train, X[np.array(RUN["train_indices"]) - 1])
    assert np.bincount(ds.y_train).tolist() == [25, 25, 25]


def test_initial_weights_exact():
    t = Trainer(Config.document())
    assert np.array_equal(t.params["W1"], np.array(RUN["W1_init"]))
    assert np.array_equal(t.params["W2"], np.array(RUN["W2_init"]))
    assert not t.params["b1"].any() and not t.params["b2"].any()


def test_loss_every_iteration(document_run):
    t, losses = document_run
    want = np.array(RUN["loss_every_iteration"])
    assert t.iteration == RUN["iterations_run"] == len(want)
    assert t.status == "maxit" == RUN["stopped_by"]
    rel = np.abs(np.array(losses) - want) / np.abs(want)
    assert rel.max() <= 1e-12


def test_final_params(document_run):
    t, _ = document_run
    for name in ("W1", "b1", "W2", "b2"):
        assert _rel(t.params[name], RUN["final"][name]) <= 1e-12, name


def test_display_rows_and_predictions(document_run):
    t, _ = document_run
    rows = np.array(RUN["rows"])
    h = t.history
    assert h.step == rows[:, 0].astype(int).tolist()
    assert np.max(np.abs(np.array(h.loss) - rows[:, 1]) / rows[:, 1]) <= 1e-12
    assert h.test_acc == RUN["accuracy_if_ties_first"]
    assert (t.predict(t.dataset.X_test) + 1).tolist() == RUN["test_predicted_labels"]
    assert t.confusion("test").tolist() == RUN["confusion"]["counts"]
    assert t.accuracy("test") == pytest.approx(RUN["final_accuracy"], abs=0)


def _cli_lines(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli(argv, out, err)
    return code, out.getvalue().splitlines(), err.getvalue()


def test_cli_default_output_as_r_prints_it():
    code, lines, err = _cli_lines([])
    assert code == 0 and err == ""
    with open(REF_DIR / "document_table.tsv", newline="") as fh:
        table = list(csv.reader(fh, delimiter="\t"))[1:]
    assert len(table) == 60
    for line, want, printed in zip(lines[:60], table, RUN["printed_lines"], strict=True):
        assert line.split(" ") == want
        assert line == printed.rstrip()  # R's cat() line without its trailing blank
    names = RUN["confusion"]["row_levels"]
    counts = RUN["confusion"]["counts"]
    cols = RUN["confusion"]["r_table_cols"]
    assert lines[60] == " " * 12 + "labels.dnn"
    assert lines[61] == " " * 12 + "".join(f"{c:>3}" for c in cols)
    for line, name, row in zip(lines[62:65], names, counts, strict=True):
        assert line == "  " + name.ljust(10) + "".join(f"{v:>3}" for v in row)
    assert lines[65] == "Accuracy: 0.986667"
    assert len(lines) == 66


def test_cli_json():
    code, lines, _ = _cli_lines(["--json"])
    assert code == 0 and len(lines) == 1
    doc = json.loads(lines[0])
    for key in ("config", "train_indices", "rows", "iterations_run", "status", "message",
                "final", "confusion", "accuracy"):
        assert key in doc
    assert doc["train_indices"] == RUN["train_indices"]
    assert [r[0] for r in doc["rows"]] == [r[0] for r in RUN["rows"]]
    assert doc["confusion"] == RUN["confusion"]["counts"]
    assert doc["iterations_run"] == 3000 and doc["status"] == "maxit"
    assert _rel(doc["final"]["W2"], RUN["final"]["W2"]) <= 1e-12
    assert Config.from_dict(doc["config"]) == Config.document()


def test_cli_json_deeper_and_diverged_is_valid_json():
    code, lines, _ = _cli_lines(["--json", "--hidden", "16,8", "--maxit", "20", "--display", "5"])
    doc = json.loads(lines[0])
    assert code == 0 and set(doc["final"]) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert np.array(doc["final"]["W2"]).shape == (16, 8)
    code, lines, _ = _cli_lines(["--json", "--seed", "2024", "--hidden", "16", "--lr", "10",
                                 "--display", "1"])
    doc = json.loads(lines[0], parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert doc["status"] == "diverged" and "iteration 4" in doc["message"]


@pytest.mark.parametrize("argv", [
    ["--hidden", "0"], ["--hidden", "6,x"], ["--lr", "-1"], ["--lr", "nan"],
    ["--maxit", "3.5"], ["--maxit", "0"], ["--display", "0"], ["--reg", "-0.1"],
    ["--sample-kind", "other"], ["--activation", "softplus"], ["--batch-size", "0"],
    ["--init-scale", "0"], ["--bogus"], ["--seed", "one"],
])
def test_cli_bad_values(argv):
    code, lines, err = _cli_lines(argv)
    assert code == 2 and lines == []
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "mlpcore", "--maxit", "100"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[:2] == ["50 1.09785 0.3333333", "100 1.096281 0.3333333"]
    bad = subprocess.run([sys.executable, "-m", "mlpcore", "--hidden", "0"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
