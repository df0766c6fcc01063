"""The page: controls on the left, the figures in a grid on the right, the status always on
top. `layout()` is a function, so every page load (every tab) gets its own session id.
Styling is in assets/lab.css (class names only here).
"""

from __future__ import annotations

import math
import uuid

from dash import dcc, html

from mlpcore import DATASETS, TRAIN_FRACTION

from . import ids
from .figures import curves_figure, format_number
from .validation import (
    ACTIVATION_NAMES,
    CSV,
    CURVE_OPTIONS,
    DATA_DEFAULTS,
    DEFAULTS,
    DISPLAY_RANGE,
    HIDDEN_RANGE,
    LAYERS_RANGE,
    LR_VALUES,
    MAXIT_RANGE,
    MAXIT_STEP,
    PARAM_SPECS,
    REG_VALUES,
    SEED_RANGE,
    SPEEDS,
    STANDARDIZE,
)

# Pause between the end of one update and the next request. The page redraws during it; in
# headless Chromium a redraw takes 30-60 ms, so 40 ms leaves the browser, not the pause, as
# the limit (~14 updates/s; 100 ms gave 8). Lower values only add requests (bench/browser.py).
TICK_MS = 40
TITLE = "MLP Lab — watch a neural network learn"

# Words for each state (data-state on the status element carries the key).
STATE_WORDS = {
    "ready": "Ready",
    "running": "Running",
    "paused": "Paused",
    "abstol": "Converged (loss below abstol)",
    "maxit": "Finished (max iterations reached)",
    "diverged": "Diverged",
}


# ------------------------------------------------------------------------ value labels
def format_speed(speed: int) -> str:
    return "as fast as possible" if speed == 0 else f"{speed} / update"


def _decade_marks(values, skip=()) -> dict:
    """Marks at 0 and at the powers of ten of a log-scale slider (positions are indices)."""
    marks = {}
    for i, v in enumerate(values):
        if v == 0:
            marks[i] = "0"
        elif v not in skip and math.log10(v).is_integer():
            marks[i] = format_number(v) if v >= 0.01 else f"1e{int(math.log10(v))}"
    return marks


def _speed_marks() -> dict:
    return {i: ("max" if s is None else str(s))
            for i, s in enumerate(SPEEDS) if s in (1, 10, 100, None)}


def _slider_block(label: str, text_id: str, text: str, slider: dcc.Slider, hint: str = ""):
    children = [
        html.Div(className="control-head", children=[
            html.Label(label, htmlFor=slider.id, className="control-label"),
            html.Span(text, id=text_id, className="control-value"),
        ]),
        slider,
    ]
    if hint:
        children.append(html.Div(hint, className="control-hint"))
    return html.Div(children, className="control")


def _slider(id_, low, high, value, step=1, marks=None) -> dcc.Slider:
    return dcc.Slider(id=id_, min=low, max=high, step=step, value=value, marks=marks,
                      allow_direct_input=False, updatemode="mouseup", className="slider")


# ------------------------------------------------------------------------------ data
HIDDEN = "is-hidden"  # assets/data.css: a control that does not apply to the chosen data
CSV_INFO = "Your own CSV, from the Data tab below."
DATA_HINT = "Changing the data starts a new run. Your own CSV: the Data tab below the figures."
# the parameter blocks: settings key, read-out id, block id, slider id
PARAM_BLOCKS = (("points", ids.TEXT_DATA_POINTS, ids.DIV_DATA_POINTS, ids.SLIDER_DATA_POINTS),
                ("classes", ids.TEXT_DATA_CLASSES, ids.DIV_DATA_CLASSES,
                 ids.SLIDER_DATA_CLASSES),
                ("noise", ids.TEXT_DATA_NOISE, ids.DIV_DATA_NOISE, ids.SLIDER_DATA_NOISE))


def data_options(csv_name: str | None = None) -> list[dict]:
    """The data dropdown's options: the built-in sets, then this tab's CSV once there is one."""
    options = [{"label": b.title, "value": name} for name, b in DATASETS.items()]
    if csv_name:
        options.append({"label": f"your CSV: {csv_name}", "value": CSV})
    return options


def data_view(name) -> tuple[str, dict]:
    """(description, {settings key: applies}) for a data set name (DATA_NAMES; anything else
    is treated as iris, whose controls are the fewest)."""
    if name == CSV:
        return CSV_INFO, {key: False for key in PARAM_SPECS}
    builtin = DATASETS.get(name) if isinstance(name, str) else None
    builtin = builtin or DATASETS[DATA_DEFAULTS["data"]]
    own = {p.name for p in builtin.params}
    applies = {key: any(p.name in own for p in specs) for key, specs in PARAM_SPECS.items()}
    return builtin.description, applies


def _shown_if(applies: bool, cls: str = "control") -> str:
    return cls if applies else f"{cls} {HIDDEN}"


def data_controls() -> html.Fieldset:
    """The Data group: the data set, its own parameters (built from mlpcore's registry of
    built-in sets), the split and standardisation."""
    d = DATA_DEFAULTS
    info, applies = data_view(d["data"])
    blocks = []
    for key, text_id, div_id, slider_id in PARAM_BLOCKS:
        p = PARAM_SPECS[key][0]  # the first set with it; restart sets each set's own range
        block = _slider_block(p.label, text_id, format_number(d[key]),
                              _slider(slider_id, p.min, p.max, d[key], step=p.step,
                                      marks={p.min: format_number(p.min),
                                             p.max: format_number(p.max)}))
        blocks.append(html.Div(block, id=div_id, className=_shown_if(applies[key], "param")))
    tf = TRAIN_FRACTION
    fraction = _slider_block(
        "Train fraction", ids.TEXT_TRAIN_FRACTION, format_number(d["train_fraction"]),
        _slider(ids.SLIDER_TRAIN_FRACTION, tf["min"], tf["max"], d["train_fraction"],
                step=tf["step"], marks={v: format_number(v) for v in (tf["min"], 0.5,
                                                                       tf["max"])}),
        "of each class, the rest is the test set")
    return html.Fieldset(className="control-group data-group", children=[
        html.Legend("Data", className="control-group-title"),
        dcc.Dropdown(id=ids.DROPDOWN_DATA, options=data_options(), value=d["data"],
                     clearable=False, searchable=False, className="data-dropdown"),
        html.Div(info, id=ids.TEXT_DATA_INFO, className="control-hint data-info"),
        *blocks,
        html.Div(className="control", children=[
            html.Label("Split", className="control-label"),
            dcc.RadioItems(id=ids.RADIO_SPLIT, value=d["split"], className="radio split",
                           options=[{"label": "the document's: half of each class",
                                     "value": "document"},
                                    {"label": "train fraction (stratified)",
                                     "value": "fraction"}]),
        ]),
        html.Div(fraction, id=ids.DIV_TRAIN_FRACTION,
                 className=_shown_if(d["split"] == "fraction", "param")),
        dcc.Checklist(id=ids.CHECKLIST_STANDARDIZE, value=list(d["standardize"]),
                      options=[{"label": "standardise features", "value": STANDARDIZE}],
                      className="switch", inputClassName="switch-input",
                      labelClassName="switch-label"),
        html.Div(DATA_HINT, className="control-hint"),
    ])


def controls() -> html.Aside:
    d = DEFAULTS
    new_run = "changing this starts a new run"
    live = "applies from the next update, no reset"
    return html.Aside(className="controls", children=[
        html.Div(className="buttons", children=[
            html.Button("Train", id=ids.BUTTON_TRAIN, className="button primary", n_clicks=0),
            html.Button("Step", id=ids.BUTTON_STEP, className="button", n_clicks=0,
                        title="Train one display interval"),
            html.Button("Reset", id=ids.BUTTON_RESET, className="button", n_clicks=0),
            html.Button("Document settings", id=ids.BUTTON_DOCUMENT, className="button wide",
                        n_clicks=0, title="Restore the document's run (main.R) exactly"),
        ]),
        _slider_block("Hidden units", ids.TEXT_HIDDEN, str(d["hidden"]),
                      _slider(ids.SLIDER_HIDDEN, *HIDDEN_RANGE, d["hidden"],
                              marks={1: "1", 16: "16", 32: "32", 48: "48", 64: "64"}), new_run),
        _slider_block("Learning rate", ids.TEXT_LR, format_number(LR_VALUES[d["lr"]]),
                      _slider(ids.SLIDER_LR, 0, len(LR_VALUES) - 1, d["lr"],
                              marks=_decade_marks(LR_VALUES)), live),
        _slider_block("Regularisation", ids.TEXT_REG, format_number(REG_VALUES[d["reg"]]),
                      _slider(ids.SLIDER_REG, 0, len(REG_VALUES) - 1, d["reg"],
                              marks=_decade_marks(REG_VALUES, skip=(1e-6,))), live),
        _slider_block("Max iterations", ids.TEXT_MAXIT, str(d["maxit"]),
                      _slider(ids.SLIDER_MAXIT, *MAXIT_RANGE, d["maxit"], step=MAXIT_STEP,
                              marks={100: "100", 5000: "5k", 10000: "10k", 15000: "15k",
                                     20000: "20k"}), new_run),
        data_controls(),
        html.Div(className="control-row", children=[
            html.Div(className="control small", children=[
                html.Label("Seed", htmlFor=ids.INPUT_SEED, className="control-label"),
                dcc.Input(id=ids.INPUT_SEED, type="number", value=d["seed"], min=SEED_RANGE[0],
                          max=SEED_RANGE[1], step=1, debounce=True, className="number"),
            ]),
            html.Div(className="control small", children=[
                html.Label("Display every", htmlFor=ids.INPUT_DISPLAY,
                           className="control-label"),
                dcc.Input(id=ids.INPUT_DISPLAY, type="number", value=d["display"],
                          min=DISPLAY_RANGE[0], max=DISPLAY_RANGE[1], step=1, debounce=True,
                          className="number"),
            ]),
        ]),
        _slider_block("Speed", ids.TEXT_SPEED,
                      format_speed(SPEEDS[d["speed"]] or 0),
                      _slider(ids.SLIDER_SPEED, 0, len(SPEEDS) - 1, d["speed"],
                              marks=_speed_marks()),
                      "iterations per update; applies at once"),
        html.Div(className="control", children=[
            html.Label("Activation", className="control-label"),
            dcc.RadioItems(id=ids.RADIO_ACTIVATION, value=d["activation"], inline=True,
                           options=[{"label": a, "value": a} for a in ACTIVATION_NAMES],
                           className="radio"),
        ]),
        _slider_block("Hidden layers", ids.TEXT_LAYERS, str(d["layers"]),
                      _slider(ids.SLIDER_LAYERS, *LAYERS_RANGE, d["layers"],
                              marks={i: str(i) for i in range(1, 5)})),
        html.Div("Seed, display interval, activation and layers also start a new run.",
                 className="control-hint"),
        html.Div(className="control", children=[
            html.Label("Also plot", className="control-label"),
            dcc.Checklist(id=ids.CHECKLIST_CURVES, value=list(d["curves"]), inline=True,
                          options=[{"label": label, "value": value} for label, value in
                                   zip(("train accuracy", "test loss"), CURVE_OPTIONS,
                                       strict=True)],
                          className="radio"),
        ]),
    ])


# ------------------------------------------------------------------------------ status
def status_children(state: str, iteration: int, maxit: int, loss, test_acc,
                    message: str = "", note: str = "") -> list:
    """The status line's content: the state in words, iteration / maxit, loss, accuracy,
    then the core's message (diverged) and the latest note (what just happened)."""
    def value(x, fmt):
        return "—" if x is None else format(x, fmt)

    children = [
        html.Span(STATE_WORDS.get(state, state), className="status-state"),
        html.Span(f"iteration {iteration} / {maxit}", className="status-item"),
        html.Span(f"loss {value(loss, '.4f')}", className="status-item"),
        html.Span(f"test accuracy {value(test_acc, '.4f')}", className="status-item"),
    ]
    details = [html.Span(text, className=cls, title=text)
               for text, cls in ((message, "status-message"), (note, "status-note")) if text]
    if details:
        children.append(html.Div(details, className="status-details"))
    return children


def error_children(message: str) -> list:
    return [html.Span("Not applied", className="status-state status-error"),
            html.Div(html.Span(message, className="status-message status-error"),
                     className="status-details")]


# -------------------------------------------------------------------------------- page
# Every graph's toolbar: save, zoom, pan, reset; the rest only crowded the figures' titles
GRAPH_CONFIG = {
    "displaylogo": False, "responsive": True,
    "modeBarButtonsToRemove": ["zoomIn2d", "zoomOut2d", "autoScale2d", "lasso2d", "select2d",
                               "toggleSpikelines", "hoverClosestCartesian",
                               "hoverCompareCartesian", "sendDataToCloud"],
}


def _graph(id_: str, figure: dict, cls: str) -> html.Div:
    return html.Div(dcc.Graph(id=id_, figure=figure, className="graph",
                              config=GRAPH_CONFIG),
                    className=f"panel {cls}")


def layout() -> html.Div:
    from .panels import panel_tabs  # the panels import this module (error_children, ...)

    placeholder = {"data": [], "layout": {"uirevision": "mlplab"}}
    return html.Div(className="lab", children=[
        html.Header(className="lab-header", children=[
            html.H1(["MLP Lab ", html.Span("watch a neural network learn", className="sub")]),
            html.Div(status_children("ready", 0, DEFAULTS["maxit"], None, None),
                     id=ids.DIV_STATUS, className="status", role="status",
                     **{"data-state": "ready", "data-iteration": 0}),
        ]),
        html.Div(className="lab-body", children=[
            controls(),
            html.Main(className="figures", children=[
                _graph(ids.GRAPH_CURVES, curves_figure({}), "wide"),
                _graph(ids.GRAPH_CONFUSION, placeholder, "square"),
                _graph(ids.GRAPH_WEIGHTS, placeholder, "weights"),
                html.Section(panel_tabs(), className="panel wide panels"),
            ]),
        ]),
        dcc.Store(id=ids.STORE_SESSION, data=uuid.uuid4().hex, storage_type="memory"),
        dcc.Store(id=ids.STORE_CLIENT, data={"run": None, "n": 0}, storage_type="memory"),
        dcc.Store(id=ids.STORE_PULSE, data="", storage_type="memory"),
        dcc.Interval(id=ids.INTERVAL_TICK, interval=TICK_MS, n_intervals=0, max_intervals=0),
        # shareable links (panels/share.py): settings in the query; classroom-mode classes
        dcc.Location(id=ids.LOCATION_URL, refresh=False),
        html.Div(id=ids.DIV_CLASSROOM, className="classroom", hidden=True),
    ])
