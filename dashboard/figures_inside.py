"""Pure figure builders of the issue-7 panels: the decision boundary and training health.

Plain data in (what mlpcore.boundary_grid and mlpcore.health return, numpy or lists), plain
Plotly figure dicts out; no Dash, no Trainer (as figures.py). A live update is a list of
operations `(path, "assign" | "extend", value)` on the figure a builder made (the panels turn
them into a dash.Patch; the tests apply them to the dict), so an update shows exactly what a
rebuild would.

Decision boundary: the coloured field is a heatmap of codes `class * LEVELS + level`, where
level (0 .. LEVELS-1) is how sure the network is (its max probability, from 1/K to 1), on a
banded colour scale: pale where unsure, deeper where sure. The codes are bytes (K <= 20), sent
as a typed array (plotly.js's {"dtype": "u1", "bdata": base64, "shape"}): a 60 x 60 field is
4.8 KB. Points are drawn in their true class's colour; test points are diamonds; a
misclassified point gets a thick dark ring (outline colour 0/1 on a two-colour scale).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .figures import UIREVISION, rounded, rounded_list

# Category colours (D3's category10, then its light partners): up to 20 classes.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
LEVELS = 4  # confidence shades of the field per class
_WHITE_MIX = (0.88, 0.78, 0.66, 0.52)  # share of white in each shade, unsure -> sure
POINT_DIGITS = 4
RIGHT, WRONG = ("#ffffff", 1), ("#111111", 3)  # marker outline (colour, width)
OUTLINE_SCALE = [[0, RIGHT[0]], [1, WRONG[0]]]  # outline colour: 0 right, 1 misclassified
TRAIN_TRACE, TEST_TRACE, RING_TRACE = 1, 2, 3  # trace indices after the field (0)

_BASE = {"uirevision": UIREVISION, "font": {"size": 14}, "paper_bgcolor": "rgba(0,0,0,0)",
         "plot_bgcolor": "rgba(0,0,0,0)"}


def class_color(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _mix(hex_color: str, white: float) -> str:
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    r, g, b = (round(c + (255 - c) * white) for c in rgb)
    return f"rgb({r},{g},{b})"


# ---------------------------------------------------------------------- decision boundary
def field_codes(pred, prob, n_classes: int) -> np.ndarray:
    """The heatmap's z: class * LEVELS + confidence level (uint8), rows following ys.
    prob from 1/K (a coin toss) to 1 is cut into LEVELS equal bands; NaN counts as unsure."""
    pred = np.asarray(pred, dtype=np.int64)
    prob = np.nan_to_num(np.asarray(prob, dtype=np.float64), nan=0.0)
    chance = 1.0 / max(n_classes, 1)
    sure = (prob - chance) / max(1.0 - chance, 1e-12)
    level = np.clip((sure * LEVELS).astype(np.int64), 0, LEVELS - 1)
    return np.clip(pred, 0, 255 // LEVELS - 1).astype(np.uint8) * LEVELS + level.astype(np.uint8)


def typed(a: np.ndarray) -> dict:
    """A uint8 matrix as plotly.js's typed-array spec (base64 bytes, row-major)."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    return {"dtype": "u1", "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
            "shape": ",".join(str(n) for n in a.shape)}


def untyped(spec: Mapping) -> list:
    """typed's inverse (for tests and checks): the nested list of numbers."""
    shape = [int(n) for n in str(spec["shape"]).split(",")]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.uint8).reshape(shape).tolist()


def field_colorscale(n_classes: int) -> list:
    """A banded scale: code c gets one flat colour on [c/n, (c+1)/n] (zmin -0.5, zmax n-0.5)."""
    n = n_classes * LEVELS
    scale = []
    for c in range(n):
        color = _mix(class_color(c // LEVELS), _WHITE_MIX[c % LEVELS])
        scale += [[c / n, color], [(c + 1) / n, color]]
    return scale


MAX_POINTS = 1500  # points of each set drawn at most (evenly spaced rows beyond that)


def drawn(n: int) -> np.ndarray:
    """Which of n points are drawn: all, or MAX_POINTS evenly spaced ones (a plot of 20,000
    points would cost the browser more than it shows)."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(np.int64))


def _outline(correct) -> tuple[list, list]:
    """(colour numbers, widths) of the drawn points' outlines: 1 and a thick ring where
    misclassified, 0 and a thin white line where right."""
    correct = np.asarray(correct, dtype=bool)
    wrong = (~correct[drawn(len(correct))]).astype(int).tolist()
    return wrong, [WRONG[1] if w else RIGHT[1] for w in wrong]


def _ring(grid: Mapping, selected: int | None) -> tuple[list, list]:
    """The selected training row's point (0-based position), or nothing."""
    train = grid["train"]
    if selected is None or not 0 <= selected < len(train["x"]):
        return [], []
    y = train["y"][selected] if grid["feature_names"][1] else 0.0
    return [rounded(train["x"][selected], POINT_DIGITS)], [rounded(y, POINT_DIGITS)]


def class_scale(n_classes: int) -> list:
    """Class number k -> its colour (cmin -0.5, cmax K - 0.5)."""
    scale = []
    for k in range(n_classes):
        scale += [[k / n_classes, class_color(k)], [(k + 1) / n_classes, class_color(k)]]
    return scale


def _points_trace(points: Mapping, name: str, symbol: str, class_names, hover: str,
                  clickable: bool) -> dict:
    idx = drawn(len(points["x"]))
    labels = np.asarray(points["label"], dtype=np.int64)[idx].tolist()
    colors, widths = _outline(points["correct"])
    K = len(class_names)
    where = "%{customdata}" if clickable else ""
    trace = {
        "type": "scatter", "mode": "markers", "name": name, "showlegend": False,
        "x": rounded_list(np.asarray(points["x"])[idx], POINT_DIGITS),
        "y": rounded_list(np.asarray(points["y"])[idx], POINT_DIGITS),
        "marker": {"symbol": symbol, "size": 11, "color": labels, "colorscale": class_scale(K),
                   "cmin": -0.5, "cmax": K - 0.5,
                   "line": {"color": colors, "width": widths, "colorscale": OUTLINE_SCALE,
                            "cmin": 0, "cmax": 1}},
        "text": [class_names[k] for k in labels],  # escaped by boundary_figure
        "hovertemplate": f"{name} {where}<br>true class %{{text}}<br>{hover}<extra></extra>",
    }
    if clickable:  # a click on a training point carries its 1-based training row
        trace["customdata"] = (idx + 1).tolist()
    return trace


def _legend(name: str, symbol: str, color: str, line: tuple[str, float]) -> dict:
    return {"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": name,
            "hoverinfo": "skip", "marker": {"symbol": symbol, "size": 11, "color": color,
                                            "line": {"color": line[0], "width": line[1]}}}


def boundary_figure(grid: Mapping, selected: int | None = None) -> dict:
    """The decision boundary of mlpcore.boundary_grid's `grid`: the predicted class as a
    coloured field, training points (circles, clickable) and test points (diamonds) on top,
    misclassified ones ringed, the `selected` training row (0-based) circled."""
    # names come from the data (an uploaded CSV's header): Plotly reads its texts as HTML
    names = [html.escape(str(n)) for n in grid["class_names"]]
    K = len(names)
    fx, fy = (html.escape(str(f)) for f in grid["feature_names"])
    strip = not fy
    field = {
        "type": "heatmap", "name": "predicted class", "x": rounded_list(grid["xs"], 5),
        "y": rounded_list(grid["ys"], 5), "z": typed(field_codes(grid["pred"], grid["prob"], K)),
        "zmin": -0.5, "zmax": K * LEVELS - 0.5, "colorscale": field_colorscale(K),
        "showscale": False, "hoverinfo": "skip", "zsmooth": False,
    }
    ring_x, ring_y = _ring(grid, selected)
    data = [
        field,
        _points_trace(grid["train"], "training row", "circle", names,
                      "click to inspect its math", True),
        _points_trace(grid["test"], "test row", "diamond", names, "not used for training",
                      False),
        {"type": "scatter", "mode": "markers", "name": "selected", "showlegend": False,
         "x": ring_x, "y": ring_y, "hoverinfo": "skip",
         "marker": {"symbol": "circle-open", "size": 24, "color": "#111111",
                    "line": {"width": 3}}},
        *[_legend(n, "square", class_color(k), ("#ffffff", 0)) for k, n in enumerate(names)],
        _legend("training row", "circle", "#9aa3ad", RIGHT),
        _legend("test row", "diamond", "#9aa3ad", RIGHT),
        _legend("misclassified", "circle", "#9aa3ad", WRONG),
        _legend("inspected row", "circle-open", "#111111", ("#111111", 3)),
    ]
    note = html.escape(grid["note"])
    for what, points in (("training", grid["train"]), ("test", grid["test"])):
        n = len(points["x"])
        if len(drawn(n)) < n:
            note += f" Showing {len(drawn(n)):,} of {n:,} {what} points."
    title = (f"Predicted class over {fx}" + ("" if strip else f" × {fy}")
             + f"<br><span style='font-size:13px'>{note}</span>")
    layout = {
        **_BASE,
        "uirevision": f"boundary:{fx}:{fy}",
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.97, "yanchor": "top"},
        "margin": {"l": 70, "r": 20, "t": 80, "b": 60},
        "xaxis": {"title": {"text": fx}, "zeroline": False, "showgrid": False},
        "yaxis": {"title": {"text": "" if strip else fy}, "zeroline": False,
                  "showgrid": False, "visible": not strip},
        "legend": {"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1,
                   "itemclick": False, "itemdoubleclick": False},
        "hovermode": "closest", "clickmode": "event",
    }
    if not strip and not grid.get("held"):  # the plane itself: same units on both axes
        layout["yaxis"]["scaleanchor"] = "x"
    return {"data": data, "layout": layout}


def boundary_updates(grid: Mapping, selected: int | None = None) -> list[tuple]:
    """What changes while the network trains (the field, which points are misclassified)
    and when another row is inspected (the ring): operations on boundary_figure's dict."""
    K = len(grid["class_names"])
    ops = [(("data", 0, "z"), "assign", typed(field_codes(grid["pred"], grid["prob"], K)))]
    for index, points in ((TRAIN_TRACE, grid["train"]), (TEST_TRACE, grid["test"])):
        colors, widths = _outline(points["correct"])
        ops.append((("data", index, "marker", "line", "color"), "assign", colors))
        ops.append((("data", index, "marker", "line", "width"), "assign", widths))
    return ops + ring_updates(grid, selected)


def ring_updates(grid: Mapping, selected: int | None) -> list[tuple]:
    ring_x, ring_y = _ring(grid, selected)
    return [(("data", RING_TRACE, "x"), "assign", ring_x),
            (("data", RING_TRACE, "y"), "assign", ring_y)]


def default_features(X, y, n_classes: int) -> tuple[int, int]:
    """The two features that separate the classes best (largest ratio of between-class to
    within-class variance, one-way ANOVA's F), in column order. For iris: petal length and
    petal width. A one-feature set gives (0, 0)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    D = X.shape[1]
    if D < 2:
        return 0, 0
    mean = X.mean(axis=0)
    between, within = np.zeros(D), np.zeros(D)
    for k in range(n_classes):
        rows = X[y == k]
        if len(rows):
            between += len(rows) * (rows.mean(axis=0) - mean) ** 2
            within += ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
    score = between / np.maximum(within, 1e-12)
    best = sorted(np.argsort(-score, kind="stable")[:2].tolist())
    return best[0], best[1]


# ----------------------------------------------------------------------- training health
LOSS_TRACES = (  # (name, history key, colour, width, dash)
    ("data loss L_D", "data_loss", "rgb(205,12,24)", 3, None),
    ("reg loss L_R", "reg_loss", "rgb(120,90,200)", 3, None),
    ("loss L = L_D + L_R", "loss", "rgb(90,100,112)", 1.5, "dot"),  # the document's
)
HEALTH_DIGITS = 4
HEALTHY_BAND = (1e-4, 1e-2)  # update/weight ratios around the rule of thumb, 1e-3
RATIO_COLORS = {"healthy": "#1d7a3a", "slow": "#6b7c93", "high": "#c77700",
                "extreme": "#b2182b"}


def _positive(values) -> list:
    """For a log axis: rounded values, with zero and non-finite as gaps (None)."""
    out = []
    for v in values:
        r = rounded(v, HEALTH_DIGITS)
        out.append(r if r is not None and r > 0 else None)
    return out


def loss_split_figure(history: Mapping[str, Sequence]) -> dict:
    """Data loss and regularisation loss against the steps (log scale), with their sum,
    the document's loss, as a thin dotted line."""
    steps = [int(s) for s in history.get("step", [])]
    data = [{"type": "scatter", "mode": "lines", "name": name, "x": steps,
             "y": _positive(history.get(key, [])),
             "line": {"color": color, "width": width, **({"dash": dash} if dash else {})}}
            for name, key, color, width, dash in LOSS_TRACES]
    layout = {
        **_BASE, "margin": {"l": 60, "r": 20, "t": 40, "b": 100},
        "title": {"text": "Data loss and regularisation loss", "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "steps"}, "zeroline": False},
        "yaxis": {"type": "log", "title": {"text": "loss (log scale)"}, "exponentformat": "e"},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.24,
                   "yanchor": "top"},
        "hovermode": "x unified",
    }
    return {"data": data, "layout": layout}


def loss_split_updates(history: Mapping[str, Sequence]) -> list[tuple]:
    """Extend the three curves with `history` (the points the page lacks)."""
    steps = [int(s) for s in history.get("step", [])]
    ops = []
    for i, (_name, key, *_rest) in enumerate(LOSS_TRACES):
        ops.append((("data", i, "x"), "extend", steps))
        ops.append((("data", i, "y"), "extend", _positive(history.get(key, []))))
    return ops


def _ratio_zone(ratio) -> str:
    if ratio is None or not math.isfinite(ratio) or ratio > 1.0:
        return "extreme"
    if ratio > 0.1:
        return "high"
    return "slow" if ratio < 1e-5 else "healthy"


def _bars(report: Mapping) -> dict:
    """The values of the three bar panels (x labels, y values, texts, colours)."""
    dead = list(report.get("dead") or [])
    layers = list(report.get("layers") or [])
    raw = report.get("grad_norms") or {}
    norms = {k: raw[k] for k in sorted(raw, key=lambda k: (int(k[1:]), k[0] != "W"))}
    ratios = [x["update_ratio"] for x in layers]
    return {
        "dead_x": [f"layer {x['layer']}" for x in dead],
        "dead_y": [rounded(x["fraction"], 3) for x in dead],
        "dead_text": [f"{x['dead']} of {x['units']}" for x in dead],
        "dead_color": ["#b2182b" if x["fraction"] >= 0.5 else "#c77700" if x["dead"]
                       else "#1d7a3a" for x in dead],
        "ratio_x": [x["weight"] for x in layers],
        "ratio_y": _positive(ratios),
        "ratio_text": [f"{r:.1e}" if r is not None and math.isfinite(r) else "—"
                       for r in ratios],
        "ratio_color": [RATIO_COLORS[_ratio_zone(r)] for r in ratios],
        "norm_x": [f"d{k}" for k in norms],
        "norm_y": _positive(norms.values()),
        "norm_text": [f"{v:.2g}" if v is not None and math.isfinite(v) else "—"
                      for v in norms.values()],
    }


def _panel_title(xaxis: str, text: str) -> dict:
    return {"text": text, "xref": f"{xaxis} domain", "yref": "paper", "x": 0, "y": 1.02,
            "xanchor": "left", "yanchor": "bottom", "showarrow": False}


def health_bars_figure(report: Mapping) -> dict:
    """Three panels side by side: the share of dead ReLU units per hidden layer; the
    update/weight ratio ||lr dW|| / ||W|| per weight matrix against the healthy band around
    1e-3; the gradient norm of every parameter (data + reg gradient)."""
    b = _bars(report)
    relu = report.get("activation", "relu") == "relu"
    domains = ((0.0, 0.26), (0.36, 0.64), (0.74, 1.0))
    bar = {"type": "bar", "textposition": "outside", "cliponaxis": False,
           "hovertemplate": "%{x}: %{text}<extra></extra>"}
    data = [
        {**bar, "name": "dead units", "x": b["dead_x"], "y": b["dead_y"], "text": b["dead_text"],
         "marker": {"color": b["dead_color"]}, "xaxis": "x", "yaxis": "y"},
        {**bar, "name": "update/weight", "x": b["ratio_x"], "y": b["ratio_y"],
         "text": b["ratio_text"], "marker": {"color": b["ratio_color"]},
         "xaxis": "x2", "yaxis": "y2"},
        {**bar, "name": "gradient norm", "x": b["norm_x"], "y": b["norm_y"],
         "text": b["norm_text"], "marker": {"color": "rgb(22,96,167)"},
         "xaxis": "x3", "yaxis": "y3"},
    ]
    low, high = HEALTHY_BAND
    layout = {
        **_BASE, "showlegend": False, "margin": {"l": 60, "r": 20, "t": 48, "b": 40},
        "xaxis": {"domain": domains[0], "anchor": "y", "type": "category"},
        "yaxis": {"range": [0, 1.15], "tickformat": ".0%", "title": {"text": "dead"},
                  "fixedrange": True},
        "xaxis2": {"domain": domains[1], "anchor": "y2", "type": "category"},
        "yaxis2": {"type": "log", "range": [-7, 1], "anchor": "x2", "exponentformat": "e",
                   "fixedrange": True},
        "xaxis3": {"domain": domains[2], "anchor": "y3", "type": "category"},
        "yaxis3": {"type": "log", "anchor": "x3", "exponentformat": "e", "fixedrange": True},
        "shapes": [
            {"type": "rect", "xref": "x2 domain", "yref": "y2", "x0": 0, "x1": 1,
             "y0": low, "y1": high, "fillcolor": "rgba(29,122,58,0.12)", "line": {"width": 0},
             "layer": "below"},
            {"type": "line", "xref": "x2 domain", "yref": "y2", "x0": 0, "x1": 1, "y0": 1e-3,
             "y1": 1e-3, "line": {"color": "rgba(29,122,58,0.8)", "width": 1.5, "dash": "dot"}},
        ],
        "annotations": [
            _panel_title("x", "<b>Dead ReLU units</b>" if relu else
                         f"<b>Dead units</b>: none ({report.get('activation')})"),
            _panel_title("x2", "<b>Update / weight ratio</b>"),
            _panel_title("x3", "<b>Gradient norms</b> ‖d·‖"),
            {"text": "healthy ≈ 1e-3", "xref": "x2 domain", "yref": "y2", "x": 1, "y": -2,
             "xanchor": "right", "yanchor": "middle", "showarrow": False,
             "font": {"size": 12, "color": "rgb(29,122,58)"}},
        ],
    }
    return {"data": data, "layout": layout}


def health_bars_updates(report: Mapping) -> list[tuple]:
    b = _bars(report)
    ops = []
    for i, key in enumerate(("dead", "ratio", "norm")):
        ops.append((("data", i, "y"), "assign", b[f"{key}_y"]))
        ops.append((("data", i, "text"), "assign", b[f"{key}_text"]))
    ops.append((("data", 0, "marker", "color"), "assign", b["dead_color"]))
    ops.append((("data", 1, "marker", "color"), "assign", b["ratio_color"]))
    return ops
