"""Pure markup builders of the issue-7 panels: plain data in, Dash html components out.

- the math inspector: one card per quantity of mlpcore.anatomy (Op number, name, shape,
  the formula typeset by MathJax, the live numbers as a heat table, the R line), grouped
  as the document derives them. `inspector_cards` builds the cards once per run and view
  (so MathJax typesets each formula once); `inspector_tables` gives their numbers as
  compact plain data, which assets/inside.js writes into the cards on every update;
- the gradient check's table (mlpcore.gradient_report), the health hints
  (mlpcore.health_hints), the divergence explainer (mlpcore.explain_divergence) and its
  one-line "why" for the status line.

Numbers are shown with 4 significant digits (`num`, ASCII minus; the page draws "−"); a
table cell's colour class says the
value's sign and size relative to the largest magnitude in its matrix (blue negative, red
positive, as the weight heatmaps). Nothing here reads a Trainer or the session.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from dash import dcc, html

ROWS_SHOWN = 8  # the batch view shows this many rows of an N x . matrix
MAX_ROWS = 8  # rows of a weight matrix shown at most (the caption says how many there are)
MAX_COLS = 10  # columns shown at most

SECTIONS = (  # key, heading, Op numbers
    ("sample", "The sample and the parameters", "Op.[1], Op.[3], Op.[6]"),
    ("forward", "Forward pass", "Op.[1]–[5]"),
    ("loss", "The loss", "Op.[6]–[10]"),
    ("backward", "Backward pass", "Op.[14]–[32]"),
    ("reg", "Regularisation: the full gradient", "Op.[33]"),
    ("update", "The update", "Op.[34]"),
)
_LOSS = {"correct_logprobs", "data_loss", "reg_loss", "loss"}
_VERDICT_WORDS = {"good": "good", "acceptable": "acceptable", "kink": "ReLU kink",
                  "suspect": "suspect", "wrong": "wrong", "unavailable": "unavailable"}


# --------------------------------------------------------------------------- numbers
def num(value) -> str:
    """4 significant digits; exponents as 1.235e-5; inf and NaN named. An ASCII minus
    (JSON would send "−" as 6 bytes): the page draws it as a true minus (assets/inside.js)."""
    v = float(value)
    if v != v:
        return "NaN"
    a = abs(v)
    if a == math.inf:
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    if 1e-3 <= a < 1e5:
        return f"{v:.4g}"
    mantissa, exponent = f"{v:.3e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def shown(value) -> str:
    """num with a true minus sign, for words the page shows as they are."""
    return num(value).replace("-", "−")


def heat(value, scale: float) -> str:
    """Colour class of a cell: n4..n1 (negative), z (about 0), p1..p4, bad (not finite)."""
    v = float(value)
    if not math.isfinite(v):
        return "bad"
    r = abs(v) / scale if scale > 0 else 0.0
    if r < 0.05:
        return "z"
    level = min(4, 1 + int(r * 4))
    return f"{'p' if v > 0 else 'n'}{level}"


def _scale(values) -> float:
    a = np.abs(np.asarray(values, dtype=np.float64))
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else 0.0


# ------------------------------------------------------------------------ the sections
def section_of(entry: Mapping) -> str:
    name, stage = entry["name"], entry["stage"]
    if stage in ("input", "param"):
        return "sample"
    if stage == "forward":
        return "loss" if name in _LOSS else "forward"
    if stage == "backward":
        return "reg" if re.fullmatch(r"reg_W\d+|dW\d+", name) else "backward"
    return "update"


def axes(name: str, L: int):
    """(rows, columns) of an entry's table: "rows" (training rows), a layer number into
    the unit names (0 = features, L = classes), or None (one row / one column)."""
    if name == "x":
        return "rows", 0
    if name in ("onehot", "e", "probs", "dscores"):
        return "rows", L
    if name in ("S", "correct_logprobs", "y"):
        return "rows", None
    if m := re.fullmatch(r"(?:sigma|h|dhidden|deriv|dsigma)(\d+)", name):
        return "rows", int(m.group(1))
    if m := re.fullmatch(r"(?:d|reg_)?W(\d+)(?:_data|_next)?", name):
        return int(m.group(1)) - 1, int(m.group(1))
    if m := re.fullmatch(r"d?b(\d+)(?:_next)?", name):
        return None, int(m.group(1))
    return None, None


@dataclass(frozen=True)
class View:
    """What the tables show of an anatomy: `anat` (mlpcore.anatomy's dict), `units` (unit
    names per layer, figures.unit_names), `class_names`, the selected training row
    (0-based), `labels` (y of every training row) and `data_rows` (their 1-based rows in the
    source data)."""

    anat: Mapping
    units: Sequence[Sequence[str]]
    class_names: Sequence[str]
    selected: int
    labels: Sequence[int]
    data_rows: Sequence[int]

    @property
    def batch(self) -> bool:
        return self.anat["mode"] == "batch"

    @property
    def L(self) -> int:
        return len(self.anat["sizes"]) - 1

    def window(self) -> range:
        """The anatomy's rows the tables show: the sample's one row, or ROWS_SHOWN rows of
        the batch starting at the selected row."""
        if not self.batch:
            return range(1)
        n = self.anat["N"]
        start = max(0, min(self.selected, n - ROWS_SHOWN))
        return range(start, min(n, start + ROWS_SHOWN))

    def training_row(self, i: int) -> int:
        """0-based training row of the anatomy's row i."""
        return i if self.batch else self.selected

    def values(self) -> dict:
        return {e["name"]: e["value"] for e in self.anat["entries"]}


def _mask(view: View, name: str, values: dict):
    """The ReLU mask (h > 0) of the layer an entry belongs to, or None."""
    m = re.fullmatch(r"(?:h|dhidden|deriv|dsigma)(\d+)", name)
    if view.anat["activation"] != "relu" or not m:
        return None
    return np.asarray(values[f"h{m.group(1)}"]) > 0


# ------------------------------------------------------------------------------ tables
def table_spec(entry: Mapping, view: View, values: dict) -> dict:
    """An entry's numbers as plain data for the page's table renderer (assets/inside.js):
    {"k": "s" (scalar) | "l" (class label) | "t" (table), "s": text, "c": class(es),
    "m": muted words, "rh": row heads or None, "rh0": their column's head, "ch": column
    heads or None, "t": the true class's column (-1: none), "sel": the selected row's index
    among rh (-1: none), "v": cell texts row by row, "n": a caption when only part is shown,
    "w": the worked line}. About 14 bytes a cell where Dash components would take 85."""
    name, value = entry["name"], entry["value"]
    spec = {"w": worked(name, view, values) or ""}
    shape = np.shape(value)
    if name == "y" and not view.batch:
        k = int(value)
        return {**spec, "k": "l", "s": view.class_names[k], "m": f" class {k} (0-based)"}
    if shape == () or (not view.batch and shape == (1,)):
        v = float(np.asarray(value).reshape(-1)[0])
        return {**spec, "k": "s", "s": num(v), "c": "" if math.isfinite(v) else "bad"}
    return {**spec, "k": "t", **_table(name, value, view, values)}


def _table(name: str, value, view: View, values: dict) -> dict:
    rows_kind, cols_kind = axes(name, view.L)
    a = np.asarray(value)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    notes = []
    if rows_kind == "rows":
        rows = list(view.window())
        row_heads = [str(view.training_row(i) + 1) for i in rows] if view.batch else None
        if view.batch and len(rows) < a.shape[0]:
            notes.append(f"rows {rows[0] + 1}–{rows[-1] + 1} of {a.shape[0]}")
    else:
        rows = list(range(min(a.shape[0], MAX_ROWS)))
        row_heads = (list(view.units[rows_kind][:len(rows)]) if rows_kind is not None
                     else None)
        if len(rows) < a.shape[0]:
            notes.append(f"{len(rows)} of {a.shape[0]} rows")
    cols = list(range(min(a.shape[1], MAX_COLS)))
    if len(cols) < a.shape[1]:
        notes.append(f"{len(cols)} of {a.shape[1]} columns")

    mask = _mask(view, name, values)
    scale = _scale(a)
    truth = cols_kind == view.L and rows_kind == "rows"
    texts, classes = [], []
    for i in rows:
        r = view.training_row(i)
        row_t, row_c = [], []
        for j in cols:
            v = a[i, j]
            if name == "y":
                row_t.append(view.class_names[int(v)])
                row_c.append("lab")
                continue
            on = mask is None or bool(mask[i, j])
            if name.startswith("deriv") and mask is not None:
                cls = ["on" if on else "off"]
            elif not on:
                cls = []  # an inactive unit: hatched grey ("m"), whatever its value
            else:
                cls = [heat(v, scale)]
            if truth and view.labels[r] == j:
                cls.append("t")
            if not on:
                cls.append("m")
            row_t.append(num(v))
            row_c.append(" ".join(cls))
        texts.append(row_t)
        classes.append(row_c)
    selected = [view.training_row(i) for i in rows].index(view.selected) \
        if view.batch and rows_kind == "rows" and view.selected in \
        [view.training_row(i) for i in rows] else -1
    return {"rh": row_heads, "rh0": "row" if view.batch and rows_kind == "rows" else "",
            "ch": list(view.units[cols_kind][:len(cols)]) if cols_kind is not None else None,
            "t": view.labels[view.selected] if truth and not view.batch else -1,
            "sel": selected, "v": texts, "c": classes,
            "n": "showing " + ", ".join(notes) if notes else ""}


# --------------------------------------------------------------------- worked numbers
def _sum_sq(values: dict, L: int) -> list[float]:
    return [float(np.sum(np.asarray(values[f"W{l}"]) ** 2)) for l in range(1, L + 1)]


def worked(name: str, view: View, values: dict) -> str | None:
    """A line of plain words and numbers under some cards: the formula with this sample's
    numbers in it."""
    anat, L = view.anat, view.L
    one = not view.batch
    y = view.labels[view.selected]
    cls = view.class_names[y] if 0 <= y < len(view.class_names) else str(y)
    if name == "probs" and one:
        q = float(np.asarray(values["probs"])[0, y])
        return f"q for the true class ({cls}): {shown(q)}"
    if name == "correct_logprobs" and one:
        q = float(np.asarray(values["probs"])[0, y])
        return f"−log q_y = −log {shown(q)} = {shown(values['correct_logprobs'][0])}"
    if name == "data_loss":
        if one:
            return f"N = 1: the sample's own −log q_y = {shown(values['data_loss'])}"
        return f"mean of {anat['N']} rows' −log q_y = {shown(values['data_loss'])}"
    if name == "reg_loss":
        sums = " + ".join(f"ΣW{l}² {shown(s)}" for l, s in enumerate(_sum_sq(values, L), 1))
        return f"½ · λ {shown(anat['reg'])} · ({sums}) = {shown(values['reg_loss'])}"
    if name == "loss":
        return (f"{shown(values['data_loss'])} + {shown(values['reg_loss'])} = "
                f"{shown(values['loss'])}")
    if name == "dscores":
        if one:
            q = float(np.asarray(values["probs"])[0, y])
            return (f"q − onehot(y): the true class {cls} gets q − 1 = {shown(q - 1)}; "
                    f"the others keep their q (outlined: the true class)")
        return f"(q − onehot(y)) / N, N = {anat['N']} (outlined: each row's true class)"
    if m := re.fullmatch(r"deriv(\d+)", name):
        if anat["activation"] != "relu":
            return f"{anat['activation']}'s derivative at this layer's output"
        h = np.asarray(values[f"h{m.group(1)}"])
        active = int(np.sum(h > 0))
        return (f"{active} of {h.size} entries active (h > 0); hatched: inactive, "
                f"their gradient stops here")
    if re.fullmatch(r"dhidden\d+", name) and anat["activation"] == "relu":
        return "hatched: units with h = 0; Op.[31] sets their gradient to 0"
    if re.fullmatch(r"dsigma\d+", name) and anat["activation"] == "relu":
        return "dhidden with the inactive (hatched) units zeroed"
    if re.fullmatch(r"h\d+", name) and anat["activation"] == "relu":
        return "hatched: inactive units (σ ≤ 0, so h = 0)"
    if name.startswith("reg_W"):
        return f"λ = {shown(anat['reg'])}"
    if name.endswith("_next") and anat["lr"] is not None:
        return f"α (learning rate) = {shown(anat['lr'])}"
    return None


# ------------------------------------------------------------------------------- cards
def _shape_text(entry: Mapping) -> str:
    shape = entry["shape"]
    return " × ".join(str(s) for s in shape) if shape else "scalar"


def card(entry: Mapping):
    """One quantity: Op number, name, words, shape; the formula (typeset once); an empty
    number block (".values") that assets/inside.js fills from inspector_tables; the
    document's R line."""
    head = html.Div(className="card-head", children=[
        html.Span(entry["op"], className="op"),
        html.Span(entry["name"], className="qname"),
        html.Span(entry["title"], className="qtitle"),
        html.Span(_shape_text(entry), className="shape"),
    ])
    # mathjax=True on every Markdown of the page (see panels/guide.py)
    formula = dcc.Markdown(f"$${entry['tex']}$$", mathjax=True, className="formula")
    shape = np.shape(entry["value"])
    wide = len(shape) == 2 and min(shape[1], MAX_COLS) > 4  # tables of 5+ columns
    return html.Div([head, formula,
                     html.Div(className="values"),
                     html.Code(entry["code"], className="rcode", title="the document's R")],
                    className="card wide" if wide else "card", **{"data-q": entry["name"]})


def _grouped(entries) -> list[tuple[tuple, list]]:
    """[(section, its entries)] in SECTIONS order, empty sections left out."""
    by_section = {key: [] for key, _h, _o in SECTIONS}
    for e in entries:
        by_section[section_of(e)].append(e)
    return [(s, by_section[s[0]]) for s in SECTIONS if by_section[s[0]]]


def inspector_cards(anat: Mapping) -> list:
    """The children of the inspector's body: a heading per section, then its cards. They
    depend only on the run's shape and the view (sample or batch), never on the numbers."""
    children = []
    for (_key, heading, ops), entries in _grouped(anat["entries"]):
        children.append(html.H3([heading, html.Span(ops, className="ops")],
                                className="inside-section"))
        children.extend(card(e) for e in entries)
    return children


def inspector_tables(view: View) -> dict:
    """{entry name: table_spec}: every number the cards show (the live part)."""
    values = view.values()
    return {e["name"]: table_spec(e, view, values) for e in view.anat["entries"]}


def inspector_head(view: View, feature_names: Sequence[str], data_name: str,
                   pick_note: str | None = None):
    """The summary over the cards: which sample (or the batch), its class and prediction."""
    values = view.values()
    r, n = view.selected, len(view.labels)
    y = view.labels[r]
    lines = []
    if view.batch:
        probs = np.asarray(values["probs"])
        acc = float(np.mean(np.argmax(probs, axis=1) == np.asarray(view.labels)))
        lines.append(html.Div(className="inside-summary", children=[
            html.Strong(f"All {n} training rows at once (N = {n})"),
            html.Span(f" · data loss {shown(values['data_loss'])} · training accuracy "
                      f"{shown(acc)} · the tables show {ROWS_SHOWN} rows from sample {r + 1}; "
                      f"the sums and means use all {n}"),
        ]))
    else:
        probs = np.asarray(values["probs"])[0]
        pred = int(np.argmax(probs)) if np.isfinite(probs).all() else None
        right = pred == y
        x = np.asarray(values["x"])[0]
        features = ", ".join(f"{f} {shown(v)}" for f, v in list(zip(feature_names, x,
                                                                    strict=True))[:8])
        more = f", … {len(x) - 8} more" if len(x) > 8 else ""
        verdict = ("—" if pred is None else
                   f"predicted {view.class_names[pred]} (q = {shown(probs[pred])}) "
                   + ("✓" if right else "✗"))
        lines.append(html.Div(className="inside-summary", children=[
            html.Strong(f"Training sample {r + 1} of {n}"),
            html.Span(f" · {data_name} row {view.data_rows[r]} · true class "),
            html.Strong(view.class_names[y]),
            html.Span(" · "),
            html.Span(verdict, className="right" if right else "wrong"),
        ]))
        lines.append(html.Div(f"x = ({features}{more})", className="inside-x"))
    notes = [note for note in view.anat.get("notes", []) if not note.startswith("Row ")]
    if not view.batch:  # the core's note counts rows from 0; the page counts from 1
        notes.insert(0, f"Sample {r + 1} alone, as a batch of one (N = 1), as the document "
                        f"derives it. The batch gradient is the mean of such gradients over "
                        f"all {n} rows, plus λW: see the whole training set.")
    for note in ([pick_note] if pick_note else []) + notes:
        lines.append(html.Div(note, className="inside-note"))
    return lines


def pick_note(pick: Mapping | None, row: int, class_names: Sequence[str]) -> str | None:
    """Words for how the sample was picked (None when it was typed or stepped to)."""
    if not pick or pick.get("row") != row:
        return None
    if pick["via"] == "boundary":
        return f"Picked on the decision boundary: training sample {row}."
    names = list(class_names)

    def name(k):
        return names[k] if k is not None and 0 <= k < len(names) else "?"

    true, pred = name(pick.get("true")), name(pick.get("pred"))
    if not pick.get("found"):
        return (f"No training row is {true} and predicted {pred} right now (the confusion "
                f"matrix counts the test set); still showing sample {row}.")
    return (f"Picked from the confusion matrix: a training row that is {true} and is "
            f"predicted {pred} ({pick.get('matches', 1)} such rows now; click the cell "
            f"again for the next). The matrix itself counts the test set.")


# ----------------------------------------------------------------------- gradient check
def gradcheck_block(report: Mapping, iteration: int):
    """mlpcore.gradient_report as a table: per tensor the max relative error, its verdict
    and, for a ReLU kink, the note; the thresholds explained above it."""
    t = report["thresholds"]
    rows = []
    for r in report["tensors"]:
        worst = r.get("worst")
        worst_text = ("—" if worst is None else
                      f"[{', '.join(str(i + 1) for i in worst['index'])}]: analytic "
                      f"{shown(worst['analytic'])}, numerical {shown(worst['numerical'])}")
        err = r["max_rel_error"]
        rows.append(html.Tr([
            html.Td(f"d{r['name']}", className="qname"),
            html.Td(" × ".join(map(str, r["shape"]))),
            html.Td(f"{r['checked']} of {r['size']}"),
            html.Td("—" if err is None else f"{err:.1e}", className="num"),
            html.Td(html.Span(_VERDICT_WORDS[r["verdict"]],
                              className=f"verdict v-{r['verdict']}")),
            html.Td(worst_text, className="worst"),
            html.Td(r["message"] if r["verdict"] != "good" else "", className="why"),
        ], **{"data-tensor": r["name"]}))
    table = html.Table([
        html.Thead(html.Tr([html.Th(h) for h in ("gradient", "shape", "entries checked",
                                                 "max relative error", "verdict",
                                                 "worst entry (1-based)", "note")])),
        html.Tbody(rows)], className="gradcheck-table")
    legend = html.Div(className="thresholds", children=[
        html.Span("relative error = |analytic − numerical| / max(1e-8, |analytic| + "
                  "|numerical|), numerical by central differences "
                  f"(h = {report['h']:g}, float64):"),
        html.Span(f"≤ {t['good']:.0e} good", className="verdict v-good"),
        html.Span(f"≤ {t['acceptable']:.0e} acceptable", className="verdict v-acceptable"),
        html.Span(f"≤ {t['wrong']:.0e} suspect", className="verdict v-suspect"),
        html.Span(f"> {t['wrong']:.0e} wrong", className="verdict v-wrong"),
    ])
    kink = ([html.Div("A ReLU kink was crossed: nudging a weight by ±h switched a hidden unit "
                      "on or off for some row, so the numerical slope straddles a corner of "
                      "max(0, σ) and disagrees there; that is not a bug in backprop.",
                      className="inside-note")] if report.get("kink_crossed") else [])
    return html.Div(className=f"gradcheck v-{report['verdict']}", children=[
        html.Div([html.Span(_VERDICT_WORDS[report["verdict"]],
                            className=f"verdict big v-{report['verdict']}"),
                  html.Span(f" At iteration {iteration}: {report['message']}")],
                 className="gradcheck-head"),
        legend, *kink, table,
        html.Div("Computed on demand for the parameters of that moment; press the button "
                 "again to check the current ones.", className="caption"),
    ])


# ------------------------------------------------------------------ hints, divergence
def hints_block(hints: Sequence[Mapping]):
    """mlpcore.health_hints, worst first, coloured by severity."""
    if not hints:
        return html.Div("Nothing to report: the loss, the units and the update sizes look "
                        "healthy.", className="hint hint-ok")
    return html.Ul([html.Li([html.Span(h["severity"], className="severity"),
                             html.Span(h["message"])],
                            className=f"hint hint-{h['severity']}",
                            **{"data-code": h["code"]}) for h in hints],
                   className="hints")


def _pretty(name: str) -> str:
    return {"correct_logprobs": "correct.logprobs", "data_loss": "data.loss",
            "reg_loss": "reg.loss"}.get(name, name)


def divergence_block(explanation: Mapping):
    """The divergence explainer: where it broke (iteration, first non-finite quantity in
    the order of computation), the last finite loss, the learning rate to try, and the
    chain of quantities with the largest finite magnitude of each."""
    e = explanation
    first = e.get("first_nonfinite")
    facts = [
        ("Diverged at iteration", str(e["iteration"])),
        ("First non-finite", "—" if first is None else
         f"{_pretty(first['name'])} ({first['op']}, {first['title']})"),
        ("Last finite loss", "—" if e.get("last_finite_loss") is None else
         f"{shown(e['last_finite_loss'])} (iteration {e['last_finite_iteration']})"),
        ("Learning rate", f"{shown(e['lr'])} → try {shown(e['suggested_lr'])}"),
    ]
    trace = html.Table([
        html.Thead(html.Tr([html.Th(h) for h in ("quantity", "Op", "finite?",
                                                 "largest |finite value|")])),
        html.Tbody([html.Tr([
            html.Td(_pretty(t["name"]), className="qname"), html.Td(t["op"]),
            html.Td("yes" if t["finite"] else f"no: {t['nonfinite']} entries",
                    className="ok" if t["finite"] else "bad"),
            html.Td("—" if t["max_abs"] is None else shown(t["max_abs"]), className="num"),
        ], className="first" if first and t["name"] == first["name"] else None)
            for t in e["trace"]]),
    ], className="trace-table")
    return html.Div(className="diverged-box", children=[
        html.H3("Why the run diverged"),
        html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))],
                className="facts"),
        html.P(e["message"]),  # it ends with the first advice
        *([html.Ul([html.Li(a) for a in e["advice"][1:]])] if len(e["advice"]) > 1 else []),
        html.Details([html.Summary("Every quantity of that last forward and backward pass"),
                      trace]),
    ])


def why_line(explanation: Mapping | None) -> str:
    """One short line for the status: which quantity broke first, the last finite loss,
    the learning rate to try."""
    if not explanation:
        return ""
    e, first = explanation, explanation.get("first_nonfinite")
    parts = []
    if first is not None:
        parts.append(f"{_pretty(first['name'])} ({first['op']}) was the first quantity to "
                     f"become non-finite")
    if e.get("last_finite_loss") is not None:
        parts.append(f"the last finite loss was {shown(e['last_finite_loss'])} (iteration "
                     f"{e['last_finite_iteration']})")
    return "Why? " + "; ".join(parts or ["see the Training health tab"]) + \
        ". Details: Training health."
