"""Pure figure builders: plain data in, plain Plotly figure dicts out.

No Dash, no Trainer, no plotly.graph_objects: a dict is all dcc.Graph needs, it carries no
template (small JSON), and it is cheap to build. `patches.py` reuses the helpers here so a
live update sends exactly what a full rebuild would show.

Shapes: `history` is a dict of equal-length lists keyed step, loss, test_acc, train_acc,
test_loss (Trainer.history.since(k)); `cm` is (K, K), rows true, columns predicted;
`params` holds W1 (D, H1), b1 (1, H1), ..., WL (H, K), bL (1, K).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

UIREVISION = "mlplab"  # constant: zoom, pan and legend clicks survive every update
CURVES_TITLE = "Loss & Accuracy as Steps Proceed"
LOSS_COLOR = "rgb(205,12,24)"
ACCURACY_COLOR = "rgb(22,96,167)"
TRAIN_ACC_COLOR = "rgb(120,170,215)"
TEST_LOSS_COLOR = "rgb(240,140,60)"

# Curve traces in figure order: (trace name, history key, line colour, line width, dash).
# The first two are the document's plot; the last two are optional (hidden in the legend).
CURVE_TRACES = (
    ("Loss", "loss", LOSS_COLOR, 3, None),
    ("Accuracy", "test_acc", ACCURACY_COLOR, 4, None),
    ("Train accuracy", "train_acc", TRAIN_ACC_COLOR, 2, "dot"),
    ("Test loss", "test_loss", TEST_LOSS_COLOR, 2, "dot"),
)
OPTIONAL_CURVES = {"train_acc": 2, "test_loss": 3}  # history key -> trace index

CURVE_DIGITS = 5  # significant digits sent to the browser for losses and accuracies
WEIGHT_DIGITS = 3  # significant digits for heatmap cells (colour and hover only)
# Diverging: blue negative, white at 0 (zmid), red positive (ColorBrewer RdBu, reversed).
DIVERGING = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"],
             [1.0, "#b2182b"]]
SEQUENTIAL = [[0.0, "#f7fbff"], [0.5, "#9ecae1"], [1.0, "#08519c"]]  # white to blue

_BASE_LAYOUT = {
    "uirevision": UIREVISION,
    "margin": {"l": 60, "r": 20, "t": 48, "b": 48},
    "font": {"size": 14},
    "paper_bgcolor": "rgba(0,0,0,0)",
}


def rounded(value, digits: int):
    """`value` to `digits` significant digits as a plain float; NaN/inf become None (a gap)."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def rounded_list(values, digits: int) -> list:
    return [rounded(v, digits) for v in values]


# ---------------------------------------------------------------- loss & accuracy curves
def curve_columns(history: Mapping[str, Sequence]) -> list[tuple[list, list]]:
    """(x, y) per curve trace, in CURVE_TRACES order, rounded for the browser."""
    steps = [int(s) for s in history.get("step", [])]
    return [(steps, rounded_list(history.get(key, []), CURVE_DIGITS))
            for _name, key, _color, _width, _dash in CURVE_TRACES]


def curve_visibility(show_train_acc: bool, show_test_loss: bool) -> list:
    """`visible` per trace: the optional curves stay in the figure (so updates can extend them)
    but sit in the legend until asked for."""
    shown = {"train_acc": show_train_acc, "test_loss": show_test_loss}
    return [True if shown.get(key, True) else "legendonly"
            for _name, key, _color, _width, _dash in CURVE_TRACES]


def curves_figure(history: Mapping[str, Sequence], show_train_acc: bool = False,
                  show_test_loss: bool = False, pins: Sequence[Mapping] = (),
                  pin_slots: int = 0) -> dict:
    """The document's plot: Loss and (test) Accuracy against steps, plus two optional curves.
    With `pins` (dashboard/pins.py), `pin_slots` pairs of faded pin traces follow the live
    ones (pin_traces); without pins the figure has the live traces only."""
    visible = curve_visibility(show_train_acc, show_test_loss)
    data = []
    for (name, _key, color, width, dash), (x, y), vis in zip(
            CURVE_TRACES, curve_columns(history), visible, strict=True):
        line = {"color": color, "width": width}
        if dash:
            line["dash"] = dash
        data.append({"type": "scatter", "mode": "lines+markers", "name": name,
                     "x": x, "y": y, "line": line, "marker": {"size": 5},
                     "visible": vis})
    layout = {
        **_BASE_LAYOUT,
        "title": {"text": CURVES_TITLE, "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "steps"}, "zeroline": False},
        "yaxis": {"title": {"text": "Loss & Acc."}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0,
                   "yanchor": "bottom"},
        "hovermode": "x unified",
    }
    if pins:
        data.extend(pin_traces(pins, pin_slots))
    return {"data": data, "layout": layout}


PIN_OPACITY = 0.35


def pin_traces(pins: Sequence[Mapping], slots: int) -> list[dict]:
    """Two faded traces per pin slot, after the live traces (so the tick's Patch indices stay
    valid): the pin's loss (its legend entry, named by its label) and test accuracy (in the
    same legend group). Slots beyond the pins are empty and invisible, so the figure always
    has 2 x `slots` of them and a pin change can assign every slot (patches.pins_patch)."""
    traces = []
    for k in range(max(slots, len(pins))):
        if k >= len(pins):
            empty = {"type": "scatter", "mode": "lines", "name": "", "x": [], "y": [],
                     "visible": False, "showlegend": False}
            traces.extend([empty, dict(empty)])
            continue
        pin = pins[k]
        label = plain(pin["label"])  # it can carry an uploaded file's name
        common = {"type": "scatter", "mode": "lines", "x": list(pin["steps"]),
                  "legendgroup": f"pin{pin['n']}", "opacity": PIN_OPACITY,
                  "visible": bool(pin["visible"])}
        traces.append({**common, "name": label, "y": list(pin["loss_curve"]),
                       "line": {"color": LOSS_COLOR, "width": 2, "dash": "dash"},
                       "showlegend": True})
        traces.append({**common, "name": f"{label} · accuracy",
                       "y": list(pin["acc_curve"]),
                       "line": {"color": ACCURACY_COLOR, "width": 2, "dash": "dash"},
                       "showlegend": False})
    return traces


# ---------------------------------------------------------------------- confusion matrix
def confusion_values(cm) -> list[list[int]]:
    return [[int(v) for v in row] for row in cm]


LABEL_CHARS = 24  # category labels (class, feature names) are cut to this many characters


def plain(text) -> str:
    """`text` as Plotly shows it literally: Plotly reads some HTML tags in names, labels and
    titles, and what users upload (a CSV's header, its file name) is data, not markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def axis_labels(names: Sequence, limit: int = LABEL_CHARS) -> list[str]:
    """Names as category labels: at most `limit` characters, HTML-escaped (Plotly reads tags
    in labels: a CSV's header is data, not markup) and distinct (a category axis merges
    equal labels, so cut names that collide get their position appended)."""
    out, seen = [], set()
    for i, name in enumerate(names):
        text = str(name)
        if len(text) > limit:
            text = text[:limit - 1] + "…"
        text = plain(text)
        while text in seen:
            text = f"{text} ({i + 1})"
        seen.add(text)
        out.append(text)
    return out


def confusion_text_size(k: int) -> int:
    """Cell font size for a K x K matrix: 20 up to K = 4, smaller as cells shrink (K <= 20)."""
    return 20 if k <= 4 else max(9, 80 // k)


def confusion_figure(cm, class_names: Sequence[str]) -> dict:
    """Test-set confusion matrix: true class down the side, predicted along the bottom,
    the count written in every cell (K x K for K classes, named by the data's labels)."""
    names = axis_labels(class_names)
    trace = {
        "type": "heatmap", "z": confusion_values(cm), "x": names, "y": names,
        "colorscale": SEQUENTIAL, "zmin": 0, "showscale": False,
        "texttemplate": "%{z}", "textfont": {"size": confusion_text_size(len(names))},
        "hovertemplate": "true %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>",
        "xgap": 2, "ygap": 2,
    }
    layout = {
        **_BASE_LAYOUT,
        "title": {"text": "Confusion (test set)", "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "predicted"}, "type": "category", "side": "bottom",
                  "automargin": True},
        "yaxis": {"title": {"text": "true"}, "type": "category", "autorange": "reversed",
                  "automargin": True},
        "margin": {"l": 100, "r": 20, "t": 48, "b": 60},
    }
    return {"data": [trace], "layout": layout}


# -------------------------------------------------------------------------- weight maps
def _layer_numbers(params: Mapping) -> list[int]:
    numbers = sorted(int(m.group(1)) for k in params if (m := re.fullmatch(r"W(\d+)", k)))
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"expected weights W1..WL, got {sorted(params)}")
    return numbers


def unit_names(params: Mapping, feature_names: Sequence[str],
               class_names: Sequence[str]) -> list[list[str]]:
    """Names of every layer's units, inputs first: [features, hidden..., classes].
    One hidden layer: h1, h2, ...; several: h1.1, h1.2, ..., h2.1, ... (layer.unit)."""
    layers = _layer_numbers(params)
    hidden_layers = len(layers) - 1
    names = [[str(f) for f in feature_names]]
    for l in layers[:-1]:
        width = len(params[f"b{l}"][0])
        prefix = "h" if hidden_layers == 1 else f"h{l}."
        names.append([f"{prefix}{j}" for j in range(1, width + 1)])
    names.append([str(c) for c in class_names])
    return names


def weight_matrices(params: Mapping) -> list[list[list]]:
    """One matrix per layer: the rows of W_l (one per input unit) and, last, the bias b_l.
    Rounded for the browser."""
    out = []
    for l in _layer_numbers(params):
        rows = [list(r) for r in params[f"W{l}"]] + [list(params[f"b{l}"][0])]
        out.append([rounded_list(r, WEIGHT_DIGITS) for r in rows])
    return out


def weights_figure(params: Mapping, feature_names: Sequence[str],
                   class_names: Sequence[str]) -> dict:
    """One heatmap per weight matrix, side by side (axis domains, no subplot machinery).
    Heatmap l: rows are layer l's inputs plus a last row b_l, columns its outputs; a
    diverging colour scale centred on 0."""
    matrices = weight_matrices(params)
    names = [axis_labels(layer) for layer in unit_names(params, feature_names, class_names)]
    count = len(matrices)
    gap = 0.16 if count > 1 else 0.0
    width = (1.0 - gap * (count - 1)) / count
    data, layout = [], {
        **_BASE_LAYOUT,
        "title": {"text": "Weights (bias: last row)", "x": 0.01, "xanchor": "left"},
        "margin": {"l": 100, "r": 30, "t": 48, "b": 60},
    }
    for i, z in enumerate(matrices):
        l = i + 1
        suffix = "" if l == 1 else str(l)
        left = i * (width + gap)
        bias = f"b{l}"
        while bias in names[i]:  # a feature may be called "b1"
            bias += " (bias)"
        rows, cols = names[i] + [bias], names[i + 1]
        target = "classes" if l == count else "hidden"
        source = "inputs" if l == 1 else "hidden"
        data.append({
            "type": "heatmap", "name": f"W{l}", "z": z, "x": cols, "y": rows,
            "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
            "colorscale": DIVERGING, "zmid": 0,
            "colorbar": {"x": left + width - 0.01, "xanchor": "left", "thickness": 8,
                         "len": 0.8, "tickfont": {"size": 10}, "nticks": 5},
            "hovertemplate": f"W{l}: %{{y}} → %{{x}}<br>%{{z}}<extra></extra>",
            "xgap": 1, "ygap": 1,
        })
        layout[f"xaxis{suffix}"] = {
            "domain": [left, left + width - 0.02], "anchor": f"y{suffix}", "type": "category",
            "title": {"text": f"W{l}: {source} → {target}" if count <= 2 else f"W{l}"},
        }
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}", "type": "category", "autorange": "reversed",
            "automargin": l == 1,  # long feature names widen the left margin
        }
    return {"data": data, "layout": layout}


# ------------------------------------------------------------------------- sweep heatmap
SWEEP_TITLES = {"test_accuracy": "Final test accuracy", "loss": "Final loss"}
LOSS_SCALE = [[0.0, "#fff5eb"], [0.5, "#fd8d3c"], [1.0, "#7f2704"]]  # white to dark orange


def format_number(value: float) -> str:
    """0.01 -> "0.01", 1.5e-06 -> "1.5e-6", 0 -> "0": numbers as the controls show them."""
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def sweep_figure(record: Mapping | None, metric: str, lr_values: Sequence[float],
                 reg_values: Sequence[float]) -> dict:
    """The sweep's heatmap: regularisation down, learning rate across, the final test
    accuracy (or loss) of every cell written in it; cells not run yet are blank, diverged
    ones say so, the best cell (highest accuracy, then lowest loss) has a star. `record`:
    the page's sweep record (validation.check_sweep_record), its lr / reg as positions on
    `lr_values` / `reg_values`. A click gives the cell's x and y labels (Dash's clickData
    carries no customdata for heatmaps): validation maps them back to positions."""
    layout = {
        **_BASE_LAYOUT,
        "height": 360,
        "margin": {"l": 80, "r": 20, "t": 48, "b": 60},
        "xaxis": {"title": {"text": "learning rate"}, "type": "category"},
        "yaxis": {"title": {"text": "regularisation"}, "type": "category",
                  "autorange": "reversed"},
    }
    if not record:
        layout["title"] = {"text": "Sweep: choose the values, then Run sweep"}
        return {"data": [], "layout": layout}
    acc, loss, status = record["acc"], record["loss"], record["status"]
    z = acc if metric == "test_accuracy" else loss
    best = max(((acc[i][j], -(loss[i][j] if loss[i][j] is not None else math.inf), i, j)
                for i in range(len(acc)) for j in range(len(acc[i]))
                if status[i][j] not in (None, "diverged") and acc[i][j] is not None),
               default=None)
    text = []
    for i, row in enumerate(z):
        words = []
        for j, v in enumerate(row):
            if status[i][j] == "diverged":
                words.append("diverged")
            elif v is None:
                words.append("")
            else:
                star = " ★" if best is not None and best[2:] == (i, j) else ""
                words.append(f"{v:.3f}{star}" if metric == "test_accuracy"
                             else f"{v:.3g}{star}")
        text.append(words)
    trace = {
        "type": "heatmap", "z": [[rounded(v, 4) if v is not None else None for v in row]
                                 for row in z],
        "x": [format_number(lr_values[p]) for p in record["lrs"]],
        "y": [format_number(reg_values[p]) for p in record["regs"]],
        "text": text, "texttemplate": "%{text}", "textfont": {"size": 14},
        "colorscale": SEQUENTIAL if metric == "test_accuracy" else LOSS_SCALE,
        "xgap": 2, "ygap": 2, "hoverongaps": False,
        "colorbar": {"thickness": 10, "len": 0.9},
        "hovertemplate": ("lr %{x}, reg %{y}<br>" + SWEEP_TITLES[metric].lower()
                          + " %{z}<extra>click: load lr and reg</extra>"),
    }
    if metric == "test_accuracy":
        trace.update(zmin=0, zmax=1)
    done = record["done"]
    total = len(record["lrs"]) * len(record["regs"])
    progress = "" if done == total else f" ({done} of {total} cells)"
    layout["title"] = {"text": f"{SWEEP_TITLES[metric]} after {record['iterations']} "
                               f"iterations{progress}"}
    return {"data": [trace], "layout": layout}
