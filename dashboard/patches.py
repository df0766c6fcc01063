"""Pure builders of the per-tick `dash.Patch` updates (plain data in, Patch out).

A tick never resends a figure: it extends the curves with the points the page lacks and
replaces the heatmap values. The values are the same rounded lists the figure builders use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import Patch

from .figures import (
    CURVE_TRACES,
    confusion_values,
    curve_columns,
    curve_visibility,
    pin_traces,
    weight_matrices,
)


def curves_patch(history: Mapping[str, Sequence]) -> Patch:
    """Extend every curve trace with the points in `history` (history.since(k) for the k
    points the page already has). Extending by nothing is harmless."""
    patch = Patch()
    for i, (x, y) in enumerate(curve_columns(history)):
        patch["data"][i]["x"].extend(x)
        patch["data"][i]["y"].extend(y)
    return patch


def curves_visibility_patch(show_train_acc: bool, show_test_loss: bool) -> Patch:
    patch = Patch()
    for i, visible in enumerate(curve_visibility(show_train_acc, show_test_loss)):
        patch["data"][i]["visible"] = visible
    return patch


def confusion_patch(cm) -> Patch:
    patch = Patch()
    patch["data"][0]["z"] = confusion_values(cm)
    return patch


def weights_patch(params: Mapping) -> Patch:
    """Replace each heatmap's values (same shapes as the figure; the architecture of a run
    never changes, a new architecture is a new run and a new figure)."""
    patch = Patch()
    for i, z in enumerate(weight_matrices(params)):
        patch["data"][i]["z"] = z
    return patch


def pins_patch(pins, slots: int) -> Patch:
    """Every pin slot of the curves figure assigned, in order (so a page whose figure has no
    slots yet gets them appended, and a dropped earlier response is made good): the whole
    pin state each time, the live traces untouched."""
    patch = Patch()
    for i, trace in enumerate(pin_traces(pins, slots), start=len(CURVE_TRACES)):
        patch["data"][i] = trace
    return patch
