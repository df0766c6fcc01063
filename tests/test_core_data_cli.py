"""The CLI's data flags: --data (built-in name or CSV path), --label, --points, --classes,
--noise, --train-fraction, --standardize; the document's default output is unchanged."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpcore import Config, Trainer, make_dataset
from mlpcore.__main__ import run as cli

ROOT = Path(__file__).resolve().parents[1]
RUN = json.loads((ROOT / "tests" / "reference" / "r_document_run.json").read_text())
IRIS_CSV = ROOT / "tests" / "reference" / "iris.csv"


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def test_default_output_is_the_documents_byte_for_byte():
    code, out, err = _cli([])
    assert code == 0 and err == ""
    lines = out.split("\n")
    assert lines[:60] == [line.rstrip() for line in RUN["printed_lines"]]
    assert lines[60:] == ["            labels.dnn", "              1  2  3",
                          "  setosa     25  0  0", "  versicolor  0 24  1",
                          "  virginica   0  0 25", "Accuracy: 0.986667", ""]
    # naming iris, or uploading R's iris as a CSV, is the same run
    assert _cli(["--data", "iris"]) == (0, out, "")
    assert _cli(["--data", str(IRIS_CSV)]) == (0, out, "")


def test_builtin_set_with_flags_matches_the_api():
    argv = ["--data", "spiral", "--points", "40", "--classes", "4", "--noise", "0.3",
            "--train-fraction", "0.75", "--standardize", "--seed", "5", "--hidden", "12",
            "--lr", "0.5", "--maxit", "300", "--display", "100", "--json"]
    code, out, err = _cli(argv)
    assert code == 0 and err == ""
    doc = json.loads(out)
    ds = make_dataset("spiral", 5, n_points=40, n_classes=4, noise=0.3, split="fraction",
                      train_fraction=0.75, standardize=True)
    t = Trainer(Config(seed=5, hidden=(12,), lr=0.5, maxit=300, display=100), ds)
    t.step(300)
    assert doc["data"] == "spiral" and doc["feature_names"] == ["x1", "x2"]
    assert doc["class_names"] == ["arm 1", "arm 2", "arm 3", "arm 4"]
    assert doc["train_indices"] == ds.train_indices.tolist() and len(ds.train_indices) == 120
    assert doc["scaling"] == {"center": ds.feature_center.tolist(),
                              "scale": ds.feature_scale.tolist()}
    assert [r[1] for r in doc["rows"]] == t.history.loss
    assert np.array(doc["confusion"]).shape == (4, 4)
    assert doc["accuracy"] == t.accuracy()
    code, out, _ = _cli(["--json"])
    assert json.loads(out)["scaling"] is None and json.loads(out)["data"] == "iris"


def test_csv_file_with_a_label_column(tmp_path):
    rows = ["height,weight,size,group"] + [f"{i},{(i * 7) % 11},{'SML'[i % 3]},g{i % 2}"
                                           for i in range(40)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = _cli(["--data", str(path), "--json", "--maxit", "10", "--display", "5"])
    assert code == 2 and out == ""  # default label: "group", and "size" holds text
    assert err == ('python -m mlpcore: error: column "size" holds text, not numbers; only the '
                   "label column may hold text (delete the column or choose it as the label)\n")
    path.write_text("\n".join(r.rsplit(",", 1)[0] for r in rows) + "\n")
    code, out, err = _cli(["--data", str(path), "--label", "size", "--json", "--maxit", "10",
                           "--display", "5"])
    doc = json.loads(out)
    assert code == 0 and doc["data"] == "people.csv"
    assert doc["feature_names"] == ["height", "weight"] and doc["class_names"] == ["L", "M", "S"]
    code, out, err = _cli(["--data", str(path), "--maxit", "10", "--display", "5"])
    assert code == 0 and out.splitlines()[2].split() == ["labels.dnn"]


@pytest.mark.parametrize("argv, message", [
    (["--data", "nowhere.csv"], "no built-in data set or file named 'nowhere.csv' (built-in: "
                                "iris, spiral, circles, xor, blobs, moons)"),
    (["--data", "tests"], "cannot read 'tests': Is a directory"),
    (["--points", "100"], "the iris data set has no points setting"),
    (["--data", "circles", "--classes", "3"], "the circles data set has no classes setting"),
    (["--data", "spiral", "--points", "5000"], "points per class must be a whole number from 10 "
                                               "to 1000, got 5000"),
    (["--data", "spiral", "--noise", "x"], "argument --noise: not a number: 'x'"),
    (["--data", "xor", "--label", "y"], "--label applies only to a CSV file"),
    (["--data", str(IRIS_CSV), "--noise", "0.1"], "--points, --classes and --noise apply only to "
                                                  "the built-in data sets"),
    (["--data", str(IRIS_CSV), "--label", "Colour"],
     'unknown label column "Colour"; the columns are "Sepal.Length", "Sepal.Width", '
     '"Petal.Length", "Petal.Width", "Species"'),
    (["--train-fraction", "1"], "the train fraction must be a number greater than 0 and less "
                                "than 1, got 1.0"),
])
def test_bad_data_is_one_line_and_exit_2(argv, message):
    code, out, err = _cli(argv)
    assert (code, out) == (2, "")
    assert err == f"python -m mlpcore: error: {message}\n"


def test_bad_csv_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b,kind\n1,2,x\n3,NaN,y\n")
    code, out, err = _cli(["--data", str(path)])
    assert code == 2 and err == ('python -m mlpcore: error: column "b", row 2 (data rows count '
                                 'from 1 below the header; spreadsheet row 3): "NaN" is not a '
                                 "finite number\n")
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(6 * 2**20)
    code, out, err = _cli(["--data", str(big)])
    assert code == 2 and err == ("python -m mlpcore: error: the file is 6,291,456 bytes; the "
                                 "limit is 5,242,880 bytes (5 MB)\n")


def test_as_a_process(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    proc = subprocess.run([sys.executable, "-m", "mlpcore", "--data", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ('python -m mlpcore: error: the label column "b" has only one class '
                           '("2"); a classifier needs at least 2\n')
    proc = subprocess.run([sys.executable, "-m", "mlpcore", "--data", "moons", "--maxit", "100",
                           "--display", "50", "--standardize"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1].startswith("Accuracy: ")
