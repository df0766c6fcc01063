"""An R script that replays a lab run with the document's own train.dnn and predict.dnn.

    text = r_script(trainer)             # or r_script(config[, dataset]); ValueError if it can't
    problems = r_script_problems(trainer) # [] when the run can be replayed, else sentences

What R can replay: the document's network exactly (one ReLU hidden layer, init 0.01 * rnorm,
full batch) with any seed, hidden, maxit, abstol, lr, reg, display and data. Iris with the
document's split is main.R itself (``set.seed``, ``sample(1:50, 25)`` ...); any other data or
split is embedded row by row (the lab's training rows in the lab's order, then its test rows),
standardised values included, so R trains on exactly the lab's numbers. Data numbers are
written as hexadecimal floats (``0x1.4p+2`` = 5), which R reads bit for bit.

What it refuses (choice: refuse rather than edit the document's functions, since the point is
to check the lab against the document's own code): more than one hidden layer, an activation
other than ReLU, mini-batches and an init scale other than 0.01. Refusal is a ValueError
listing every reason; r_script_problems() gives the same list for a UI to show beforehand.
Not detectable: lr / reg changed mid-run (the lab keeps only the current values, which the
script uses; its header says so).
"""

from __future__ import annotations

import numpy as np

from .config import Config
from .data import Dataset, document_split, load_iris
from .rdocument import ATTRIBUTION, PREDICT_DNN, TRAIN_DNN
from .rtext import comment, data_frame, r_number

__all__ = ["r_script", "r_script_problems", "MAX_EMBEDDED_VALUES"]

MAX_EMBEDDED_VALUES = 250_000  # numbers written into the script (~6 MB of R)


def _resolve(run, dataset):
    """(config, dataset, trainer or None); dataset None -> iris with the document's split."""
    trainer = None
    if isinstance(run, Config):
        config, ds = run, dataset
    else:
        config, ds, trainer = getattr(run, "config", None), getattr(run, "dataset", None), run
        if not isinstance(config, Config) or not isinstance(ds, Dataset):
            raise ValueError("r_script needs a Trainer or a Config")
    if ds is None:
        X, y, features, classes = load_iris()
        ds = document_split(X, y, config.seed, config.sample_kind, feature_names=features,
                            class_names=classes)
    elif not isinstance(ds, Dataset):
        raise ValueError("dataset must be a mlpcore.Dataset or None")
    return config, ds, trainer


def _is_document_iris(config: Config, ds: Dataset) -> bool:
    """True when the data are main.R's: iris, raw, split by document_split(seed)."""
    if ds.name != "iris" or ds.standardized:
        return False
    X, y, features, classes = load_iris()
    ref = document_split(X, y, config.seed, config.sample_kind, feature_names=features,
                         class_names=classes)
    return (ds.feature_names == features and ds.class_names == classes
            and np.array_equal(ds.train_indices, ref.train_indices)
            and np.array_equal(ds.test_indices, ref.test_indices)
            and np.array_equal(ds.X_train, ref.X_train) and np.array_equal(ds.X_test, ref.X_test)
            and np.array_equal(ds.y_train, ref.y_train) and np.array_equal(ds.y_test, ref.y_test))


def r_script_problems(run, dataset: Dataset | None = None) -> list[str]:
    """Why the run cannot be replayed with the document's functions ([] if it can)."""
    config, ds, _ = _resolve(run, dataset)
    why = []
    if len(config.hidden) != 1:
        why.append(f"the network has {len(config.hidden)} hidden layers; the document's "
                   f"train.dnn has exactly one")
    if config.activation != "relu":
        why.append(f'the hidden activation is {config.activation}; the document\'s functions '
                   f"use ReLU (pmax(., 0))")
    if config.batch_size is not None and config.batch_size < len(ds.y_train):
        why.append(f"the run uses mini-batches of {config.batch_size} rows; the document's "
                   f"train.dnn trains on the full batch")
    if config.init_scale != 0.01:
        why.append(f"the initial weights are {config.init_scale:g} * rnorm; the document's "
                   f"train.dnn uses 0.01 * rnorm")
    missing = sorted(set(range(ds.n_classes)) - set(ds.y_train.tolist()))
    if missing:
        why.append(f'class "{comment(ds.class_names[missing[0]])}" has no training row; the '
                   f"document's train.dnn counts the classes of its training rows")
    if not _is_document_iris(config, ds):
        n = ds.X_train.size + ds.X_test.size
        if n > MAX_EMBEDDED_VALUES:
            why.append(f"the data set has {n:,} numbers, more than the {MAX_EMBEDDED_VALUES:,} "
                       f"a script can embed")
    return why


def _rng_block(kind: str, samples: bool) -> str:
    """RNGkind() as the lab's; `samples`: the script calls sample() (main.R's split)."""
    old = ('  base::RNGkind(kind = "Mersenne-Twister", normal.kind = "Inversion")\n'
           if kind == "Rounding" or not samples else
           '  base::stop("this run draws with sample.kind \\"Rejection\\", which needs '
           'R >= 3.6.0")\n')
    why = ("# needs Rounding, and the lab draws its splits the same way. (R warns that Rounding"
           "\n# is non-uniform: expected here, so the warning is silenced.)\n"
           if kind == "Rounding" else
           "# needs Rounding; this run asked the lab for Rejection instead, R >= 3.6's default.\n")
    return (
        "# R's generator as the lab's: Mersenne-Twister, Inversion for rnorm(), and sample.kind\n"
        f'# "{kind}". R 3.6.0 changed sample()\'s default from "Rounding" to "Rejection"; the\n'
        "# document (2017) ran on an older R, whose only sampler was \"Rounding\", so its split\n"
        + why +
        'if (base::getRversion() >= "3.6.0") {\n'
        '  base::suppressWarnings(base::RNGkind(kind = "Mersenne-Twister", '
        'normal.kind = "Inversion",\n'
        f'                                       sample.kind = "{kind}"))\n'
        "} else {\n" + old + "}\n")


def _settings(config: Config) -> str:
    c = config
    return (f"hidden = {c.hidden[0]}, maxit = {c.maxit}, abstol = {r_number(c.abstol)}, "
            f"lr = {r_number(c.lr)}, reg = {r_number(c.reg)},\n                  "
            f"display = {c.display}, random.seed = {c.seed}")


def _header(config: Config, ds: Dataset | None, trainer, iris: bool, kind: str) -> str:
    c = config
    lines = ["MLP Lab: a run replayed in R with the document's own train.dnn() and predict.dnn().",
             "Run it with:  Rscript this-file.R   (base R only; with the plotly package and an",
             "interactive session it also draws the document's loss & accuracy plot).", ""]
    if iris:
        lines.append("Data: R's iris with the document's split (main.R: set.seed, then 25 rows of "
                     "each species).")
    else:
        lines += [f"Data: {comment(ds.name)}: {len(ds.y_train)} training and "
                  f"{len(ds.y_test)} test rows, {ds.n_features} features,",
                  f"{ds.n_classes} classes, embedded below exactly as the lab split them "
                  "(training rows in the",
                  "lab's drawn order, then the test rows; row names are the lab's row numbers)."]
    lines += [f"Settings: seed {c.seed}, hidden {c.hidden[0]}, maxit {c.maxit}, abstol "
              f"{r_number(c.abstol)}, lr {r_number(c.lr)}, reg {r_number(c.reg)},",
              f'display {c.display}, sample.kind "{kind}".',
              "R prints \"step loss accuracy\" every display iterations (the lab's table), then "
              "the test", "confusion table (rows: true class) and the accuracy.", "",
              "Worth knowing:"]
    if ds.standardized:
        center = ", ".join(f"{v:.7g}" for v in ds.feature_center)
        scale = ", ".join(f"{v:.7g}" for v in ds.feature_scale)
        lines += ["- The lab standardised the features with the training rows' mean and sd: "
                  "the embedded", "  values are (raw - center) / scale, with",
                  f"  center = ({comment(center)})", f"  scale = ({comment(scale)})"]
    lines += ["- predict.dnn() uses max.col(), which breaks near-ties (within 1e-5) at random; "
              "the lab", "  takes the first maximum, so on a tie an accuracy may differ by a "
              "row (the draws come", "  after all of training's random numbers: training is "
              "not affected).",
              "- The lab keeps only the current lr and reg: if they were changed during the "
              "run, R uses", "  these from the first iteration, and its numbers differ from "
              "the change on."]
    if trainer is not None:
        lines += [f"- The lab's run was at iteration {trainer.iteration} ({trainer.status}) when "
                  "this was made; R runs", "  until maxit or abstol."]
        if trainer.status == "diverged":
            lines += ["- The lab's run diverged: R stops with the error \"missing value where "
                      "TRUE/FALSE needed\"", "  once the loss is NaN, as the document's code "
                      "does."]
    return "".join(f"# {comment(t)}\n" if t else "#\n" for t in lines)


def _label_name(features: list[str]) -> str:
    name, k = "label", 0
    while name in features:
        k += 1
        name = f"label.{k}"
    return name


def r_script(run, dataset: Dataset | None = None) -> str:
    """A self-contained R script replaying ``run`` (a Trainer, or a Config with ``dataset``:
    None = iris with the document's split). ValueError listing every reason if the document's
    functions cannot express the run (see r_script_problems)."""
    config, ds, trainer = _resolve(run, dataset)
    problems = r_script_problems(config, ds)
    if problems:
        raise ValueError("this run cannot be replayed with the document's R functions: "
                         + "; ".join(problems) + ".")
    iris = _is_document_iris(config, ds)
    kind = "Rounding" if config.sample_kind == "rounding" else "Rejection"
    parts = [_header(config, ds, trainer, iris, kind), "\n", _rng_block(kind, iris), "\n",
             ATTRIBUTION, TRAIN_DNN, "\n", PREDICT_DNN, "\n"]
    if iris:
        parts.append(
            "# ---- main.R (its EDA lines, summary/names/plot of iris, left out) --------------\n"
            f"set.seed({config.seed})\n"
            "# 1. split data into test/train\n"
            "samp <- base::c(base::sample(1:50,25), base::sample(51:100,25), "
            "base::sample(101:150,25))\n"
            "# 2. train model\n"
            "ir.model <- train.dnn(x = 1:4, y = 5, traindata = iris[samp,], "
            "testdata = iris[-samp,],\n                  " + _settings(config) + ")\n"
            "# 3. prediction\n"
            "labels.dnn <- predict.dnn(ir.model, iris[-samp, -5])\n"
            "# 4. verify the results\n"
            "print(base::table(model = iris[-samp,5], data = labels.dnn))  # LAB: print()\n"
            'print( sprintf("Accuracy: %f", base::mean(as.integer(iris[-samp, 5]) == '
            "labels.dnn)) )\n")
        return "".join(parts)
    D, label = ds.n_features, _label_name(ds.feature_names)
    parts += [
        "# ---- the lab's data (numbers as hexadecimal floats: R reads them bit for bit) -----\n",
        data_frame("traindata", ds.X_train, ds.y_train, ds.train_indices, ds.feature_names,
               ds.class_names, label), "\n",
        data_frame("testdata", ds.X_test, ds.y_test, ds.test_indices, ds.feature_names,
               ds.class_names, label), "\n",
        "# ---- main.R's steps 2 to 4 on these data ------------------------------------------\n"
        f"model <- train.dnn(x = 1:{D}, y = {D + 1}, traindata = traindata, "
        "testdata = testdata,\n                  " + _settings(config) + ")\n"
        f"labels.dnn <- predict.dnn(model, testdata[, -{D + 1}])\n"
        f"print(base::table(model = testdata[, {D + 1}], data = labels.dnn))\n"
        f'print( sprintf("Accuracy: %f", base::mean(as.integer(testdata[, {D + 1}]) == '
        "labels.dnn)) )\n"]
    return "".join(parts)
