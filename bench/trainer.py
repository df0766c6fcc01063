"""Time per training iteration: mlpcore vs scikit-learn's MLPClassifier, same run.

    python bench/trainer.py            # readable table
    python bench/trainer.py --json     # one JSON object
    python bench/trainer.py --quick    # fewer iterations and repeats

Cases (full batch, plain gradient descent, ReLU, reg 1e-3, lr 0.01):
  iris     the document's run: 75 x 4, H=6, K=3 (Config.document(), display 50)
  digits   synthetic 1797 x 64, H=128, K=10
  100k     synthetic 100000 x 20, H=64, K=5
sklearn gets the same problem: solver="sgd", momentum=0, batch_size=N, alpha=reg*N (it
divides the penalty by the batch size), learning_rate_init=lr, tol=0, no early stop,
shuffle=False. Each figure is the median of the repeats (>= 5); goals are printed next to
the ratios but never make this script fail. The last column is sklearn with BLAS limited to
one thread (threadpoolctl), for context: on this 2-core VM OpenBLAS's own threads make
sklearn's big cases several times slower, and that swings with machine load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlpcore import Config, Dataset, Trainer  # noqa: E402

CASES = [  # name, N, D, H, K, iterations, quick iterations, goal (ratio mlpcore / sklearn)
    ("iris", 75, 4, 6, 3, 3000, 1000, 1 / 5.5),
    ("digits", 1797, 64, 128, 10, 100, 30, 0.7),
    ("100k", 100000, 20, 64, 5, 8, 3, 0.4),
]
ABS_GOAL_US = 13.0  # iris, µs per iteration


def synthetic(N, D, K, seed=0):
    """Gaussian features, labels = arg-max of a random linear teacher (all K classes)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = np.argmax(X @ rng.normal(size=(D, K)), axis=1)
    return X, y


def problem(name, N, D, K):
    if name == "iris":
        t = Trainer(Config.document())
        return t.dataset.X_train, t.dataset.y_train, None
    X, y = synthetic(N, D, K)
    ds = Dataset(name=name, X_train=X, y_train=y, X_test=np.zeros((0, D)),
                 y_test=np.zeros(0, dtype=np.int64), feature_names=[f"x{i}" for i in range(D)],
                 class_names=[str(k) for k in range(K)])
    return X, y, ds


def time_mlpcore(name, H, iters, ds):
    if ds is None:
        config = Config.document().replace(maxit=iters)
    else:
        config = Config(hidden=(H,), maxit=iters, abstol=0.0, display=iters + 1)
    trainer = Trainer(config, ds)
    t0 = time.perf_counter()
    ran = trainer.step(iters)
    return (time.perf_counter() - t0) / ran * 1e6


def numpy_call_us():
    """Median µs of one tiny numpy call: how fast this machine is right now (context only)."""
    a, out = np.ones(45), np.empty(45)
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(20000):
            np.multiply(a, a, out)
        runs.append((time.perf_counter() - t0) / 20000 * 1e6)
    return statistics.median(runs)


def time_sklearn(X, y, H, iters, one_blas_thread=False):
    if one_blas_thread:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return time_sklearn(X, y, H, iters)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    N = X.shape[0]
    clf = MLPClassifier(hidden_layer_sizes=(H,), activation="relu", solver="sgd", momentum=0.0,
                        nesterovs_momentum=False, batch_size=N, alpha=1e-3 * N,
                        learning_rate="constant", learning_rate_init=0.01, max_iter=iters,
                        tol=0.0, n_iter_no_change=iters + 10, shuffle=False, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        elapsed = time.perf_counter() - t0
    return elapsed / clf.n_iter_ * 1e6


def run(quick=False, repeats=None):
    repeats = repeats or (5 if quick else 7)
    results = []
    for name, N, D, H, K, iters, quick_iters, goal in CASES:
        n_it = quick_iters if quick else iters
        X, y, ds = problem(name, N, D, K)
        ours, theirs, theirs_1t = [], [], []
        time_mlpcore(name, H, min(n_it, 50), ds)  # warm-up
        time_sklearn(X, y, H, min(n_it, 5))
        for _ in range(repeats):  # interleaved, so drifts in machine speed hit all three
            ours.append(time_mlpcore(name, H, n_it, ds))
            theirs.append(time_sklearn(X, y, H, n_it))
            theirs_1t.append(time_sklearn(X, y, H, n_it, one_blas_thread=True))
        m, s = statistics.median(ours), statistics.median(theirs)
        results.append({"case": name, "shape": [N, D, H, K], "iterations": n_it,
                        "repeats": repeats, "mlpcore_us": m, "sklearn_us": s,
                        "sklearn_1blas_us": statistics.median(theirs_1t),
                        "mlpcore_min_us": min(ours), "sklearn_min_us": min(theirs),
                        "ratio": m / s, "goal_ratio": goal,
                        "meets_goal": m / s <= goal and (name != "iris" or m <= ABS_GOAL_US)})
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    p.add_argument("--repeats", type=int, default=None, help="runs per case (>= 5)")
    args = p.parse_args(argv)
    call_us = numpy_call_us()
    results = run(args.quick, max(5, args.repeats) if args.repeats else None)
    if args.json:
        print(json.dumps({"unit": "microseconds per iteration", "numpy_call_us": call_us,
                          "cases": results}))
        return
    print(f"{'case':8} {'N x D, H, K':>22} {'iters':>6} {'mlpcore µs':>11} {'sklearn µs':>11} "
          f"{'ratio':>7}  {'goal':24} {'sklearn 1-thread BLAS µs':>24}")
    for r in results:
        N, D, H, K = r["shape"]
        goal = f"<= {r['goal_ratio']:.3g}x" + (f", <= {ABS_GOAL_US:g} µs" if r["case"] == "iris"
                                               else "")
        goal += " ok" if r["meets_goal"] else " MISSED"
        print(f"{r['case']:8} {f'{N} x {D}, {H}, {K}':>22} {r['iterations']:>6} "
              f"{r['mlpcore_us']:>11.1f} {r['sklearn_us']:>11.1f} {r['ratio']:>6.3f}x  "
              f"{goal:24} {r['sklearn_1blas_us']:>24.1f}")
    print(f"median of {results[0]['repeats']} runs each; iris speed-up "
          f"{1 / results[0]['ratio']:.1f}x; one tiny numpy call took {call_us:.2f} µs "
          f"(machine speed; ~0.3 when idle)")


if __name__ == "__main__":
    main()
