"""``python -m mlpcore``: run main.R (or a variation) and print what R prints.

Without arguments: the 60 lines ``step loss accuracy`` as R's cat() prints them, the test
confusion table as R prints ``table(testdata[, 5], labels.dnn)``, and ``Accuracy: 0.986667``.
``--json`` prints one JSON object instead. Bad flags or values: one line on stderr, exit 2.

Other data: ``--data spiral --points 100 --classes 3 --noise 0.2`` (a built-in set, see
toydata.DATASETS) or ``--data PATH.csv --label COLUMN``; ``--train-fraction 0.7`` for a
stratified split instead of the document's half of each class; ``--standardize``. With none
of these flags the run is main.R's, byte for byte; bad data is one line on stderr, exit 2.

Exports, written after the run: ``--save-model m.json`` (export.model_to_json),
``--save-history h.csv`` (export.history_to_csv), ``--save-r replay.R`` (rscript.r_script;
refused before training, exit 2, when the document's R functions cannot express the run).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .activations import ACTIVATIONS
from .config import Config
from .csvdata import check_size, csv_dataset
from .data import DataError
from .plain import to_plain
from .rformat import r_cat, r_table
from .rrandom import SAMPLE_KINDS
from .toydata import DATASETS, make_dataset
from .trainer import Trainer


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _whole(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _hidden(text: str) -> tuple:
    return tuple(_whole(part.strip()) for part in text.split(","))


def _parser() -> _Parser:
    d = Config.document()
    p = _Parser(prog="python -m mlpcore", description="Train the document's network on iris "
                "(main.R) and print what R prints.")
    p.add_argument("--seed", type=_whole, default=d.seed, help="set.seed() value (1)")
    p.add_argument("--hidden", type=_hidden, default=d.hidden,
                   help="hidden units per layer, e.g. 6 or 16,8 (6)")
    p.add_argument("--lr", type=_real, default=d.lr, help="learning rate (0.01)")
    p.add_argument("--reg", type=_real, default=d.reg, help="L2 regularisation (0.001)")
    p.add_argument("--maxit", type=_whole, default=d.maxit, help="maximum iterations (3000)")
    p.add_argument("--abstol", type=_real, default=d.abstol, help="stop when loss <= this (0.01)")
    p.add_argument("--display", type=_whole, default=d.display, help="print every n steps (50)")
    p.add_argument("--sample-kind", choices=SAMPLE_KINDS, default=d.sample_kind,
                   help="R's sample.kind for the split and mini-batches (rounding)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default=d.activation,
                   help="hidden activation (relu)")
    p.add_argument("--batch-size", type=_whole, default=None, help="mini-batch rows (full batch)")
    p.add_argument("--init-scale", type=_real, default=d.init_scale,
                   help="initial weights = this * rnorm (0.01)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    data = p.add_argument_group("data (default: iris with the document's split)")
    data.add_argument("--data", metavar="NAME|PATH.csv",
                      help=f"a built-in data set ({', '.join(DATASETS)}) or a CSV file")
    data.add_argument("--label", metavar="COLUMN",
                      help="the CSV's label column (default: its last text column)")
    data.add_argument("--points", type=_whole, help="points per class of a 2-D set (100)")
    data.add_argument("--classes", type=_whole, help="classes of spiral or blobs (3)")
    data.add_argument("--noise", type=_real, help="noise of a 2-D set (its own default)")
    data.add_argument("--train-fraction", type=_real, metavar="F",
                      help="train on this fraction of each class (default: half, as main.R)")
    data.add_argument("--standardize", action="store_true",
                      help="scale features by the training rows' mean and sd")
    files = p.add_argument_group("export (files written after the run)")
    files.add_argument("--save-model", metavar="PATH.json", help="the trained model as JSON")
    files.add_argument("--save-history", metavar="PATH.csv", help="the history as CSV")
    files.add_argument("--save-r", metavar="PATH.R",
                       help="an R script replaying the run with the document's functions")
    return p


def _export(args, trainer) -> None:
    """Write the files --save-model / --save-history / --save-r ask for (OSError if one fails)."""
    from .export import history_to_csv, model_to_json
    from .rscript import r_script

    for path, make in ((args.save_model, model_to_json), (args.save_history, history_to_csv),
                       (args.save_r, r_script)):
        if path is not None:
            Path(path).write_text(make(trainer), encoding="utf-8")


def _dataset(args, config: Config):
    """The Dataset the flags ask for, or None for the Trainer's own (the document's iris)."""
    shape = {"n_points": args.points, "n_classes": args.classes, "noise": args.noise}
    if args.data is None and args.label is None and args.train_fraction is None and \
            not args.standardize and all(v is None for v in shape.values()):
        return None
    common = {"seed": config.seed, "split": "document" if args.train_fraction is None
              else "fraction", "train_fraction": args.train_fraction,
              "standardize": args.standardize, "sample_kind": config.sample_kind}
    name = "iris" if args.data is None else args.data
    if name in DATASETS:
        if args.label is not None:
            raise DataError("--label applies only to a CSV file")
        return make_dataset(name, **shape, **common)
    if any(v is not None for v in shape.values()):
        raise DataError("--points, --classes and --noise apply only to the built-in data sets")
    path = Path(name)
    try:
        check_size(path.stat().st_size)
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"no built-in data set or file named {name!r} (built-in: "
                        f"{', '.join(DATASETS)})") from None
    except OSError as exc:
        raise DataError(f"cannot read {name!r}: {exc.strerror or exc}") from None
    return csv_dataset(data, args.label, name=path.name, **common)


def run(argv=None, out=sys.stdout, err=sys.stderr) -> int:
    try:
        args = _parser().parse_args(argv)
        config = Config(seed=args.seed, hidden=args.hidden, activation=args.activation,
                        lr=args.lr, reg=args.reg, maxit=args.maxit, abstol=args.abstol,
                        display=args.display, init_scale=args.init_scale,
                        batch_size=args.batch_size, sample_kind=args.sample_kind)
        dataset = _dataset(args, config)
        if args.save_r is not None:  # refuse before training, not after
            from .rscript import r_script_problems

            problems = r_script_problems(config, dataset)
            if problems:
                raise ValueError("--save-r: the document's R functions cannot replay this "
                                 "run: " + "; ".join(problems))
    except (_UsageError, ValueError) as exc:
        print(f"python -m mlpcore: error: {exc}", file=err)
        return 2
    trainer = Trainer(config, dataset)
    trainer.step(config.maxit)
    try:
        _export(args, trainer)
    except OSError as exc:
        print(f"python -m mlpcore: error: cannot write {exc.filename}: {exc.strerror}", file=err)
        return 2
    h, d = trainer.history, trainer.dataset
    cm = trainer.confusion("test")
    acc = trainer.accuracy("test")
    if args.json:
        doc = {
            "config": config.to_dict(),
            "train_indices": d.train_indices.tolist(),
            "rows": [[s, loss, a] for s, loss, a in zip(h.step, h.loss, h.test_acc, strict=True)],
            "iterations_run": trainer.iteration,
            "status": trainer.status,
            "message": trainer.message,
            "final": {k: v.tolist() for k, v in trainer.params.items()},
            "confusion": cm.tolist(),
            "class_names": d.class_names,
            "data": d.name,
            "feature_names": d.feature_names,
            "scaling": None if not d.standardized else
            {"center": d.feature_center, "scale": d.feature_scale},
            "accuracy": acc,
        }
        out.write(json.dumps(to_plain(doc), allow_nan=False) + "\n")
        return 0
    for s, loss, a in zip(h.step, h.loss, h.test_acc, strict=True):
        out.write(r_cat(s, loss, a) + "\n")
    if trainer.status == "diverged":
        print(trainer.message, file=err)
    used = sorted(set(trainer.predict(d.X_test).tolist()))  # table() shows predicted labels seen
    lines = r_table(cm[:, used], d.class_names, [str(k + 1) for k in used], "", "labels.dnn")
    out.write("\n".join(lines) + "\n")
    out.write(f"Accuracy: {acc:f}\n")
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
