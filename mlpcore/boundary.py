"""The decision boundary: the predicted class over a grid of two input features.

    g = boundary_grid(trainer, features=(2, 3), resolution=60)
    # heatmap z = g["pred"] (rows follow g["ys"], columns g["xs"]), shaded by g["prob"];
    # scatter g["train"] and g["test"] on top, g["note"] under the plot.

The grid is in the features' raw units, as the user knows them; a standardised data set's
grid goes through ``dataset.transform`` before the network sees it. Features other than the
two shown are held at their training means (raw units), and the note says so.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["boundary_grid"]


def _points(trainer, X_raw, X, y, indices, fi, fj) -> dict:
    pred = trainer.predict(X) if len(y) else np.zeros(0, dtype=np.int64)
    return {"x": X_raw[:, fi], "y": X_raw[:, fj] if fj is not None else np.zeros(len(y)),
            "label": y, "pred": pred, "correct": pred == y, "index": indices}


def boundary_grid(trainer, features=(0, 1), resolution: int = 60, margin: float = 0.1) -> dict:
    """Predicted class and its probability on a resolution x resolution grid.

    features: two 0-based feature columns (x axis, y axis); a one-feature data set gives a
    one-row strip (ys = [0.0]). margin: padding on each side as a fraction of the range of
    the train and test points. Returns {"features": [i, j], "feature_names": [x, y], "xs" (R,),
    "ys" (R,) or (1,), "pred" (len(ys), R) int class per cell, "prob" (len(ys), R) its
    probability, "class_names", "held": {name: training mean} for the other features,
    "standardized": bool, "note": str, "train" / "test": {"x", "y", "label", "pred",
    "correct", "index" (1-based source rows)}}. Points and grid are in raw units.
    """
    d = trainer.dataset
    D = d.n_features
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not 2 <= resolution <= 1000:
        raise ValueError("resolution must be a whole number from 2 to 1000")
    try:
        margin = float(margin)
    except (TypeError, ValueError):
        margin = math.nan
    if not 0 <= margin <= 10:
        raise ValueError("margin must be a number from 0 to 10")
    try:
        fi, fj = (int(f) for f in features)
    except (TypeError, ValueError):
        raise ValueError("features must be two feature numbers") from None
    if D == 1:
        fi, fj = 0, None
    elif not (0 <= fi < D and 0 <= fj < D) or fi == fj:
        raise ValueError(f"features must be two different numbers from 0 to {D - 1}")
    train_raw, test_raw = d.inverse_transform(d.X_train), d.inverse_transform(d.X_test)
    both = np.vstack([train_raw, test_raw])
    means = train_raw.mean(axis=0)

    def axis(f, n):
        lo, hi = both[:, f].min(), both[:, f].max()
        pad = margin * (hi - lo) if hi > lo else 0.5 * max(1.0, abs(lo))
        return np.linspace(lo - pad, hi + pad, n)

    xs = axis(fi, resolution)
    ys = axis(fj, resolution) if fj is not None else np.zeros(1)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.empty((gx.size, D))
    grid[:] = means
    grid[:, fi] = gx.ravel()
    if fj is not None:
        grid[:, fj] = gy.ravel()
    probs = trainer.predict_proba(d.transform(grid))
    shape = gx.shape
    held = {d.feature_names[k]: float(means[k]) for k in range(D) if k not in (fi, fj)}
    if held:
        note = ("Other features held at their training means: "
                + ", ".join(f"{k} = {v:.4g}" for k, v in held.items()) + ".")
    elif fj is None:
        note = "The data set has one feature: the strip shows the class along it."
    else:
        note = "The two features are the whole input: this is the plane itself."
    if d.standardized:
        note += " Axes in the data's own units; the network sees them standardised."
    names = [d.feature_names[fi], d.feature_names[fj] if fj is not None else ""]
    return {"features": [fi, fj], "feature_names": names, "xs": xs, "ys": ys,
            "pred": probs.argmax(axis=1).reshape(shape), "prob": probs.max(axis=1).reshape(shape),
            "class_names": list(d.class_names), "held": held, "standardized": d.standardized,
            "note": note,
            "train": _points(trainer, train_raw, d.X_train, d.y_train, d.train_indices, fi, fj),
            "test": _points(trainer, test_raw, d.X_test, d.y_test, d.test_indices, fi, fj)}
