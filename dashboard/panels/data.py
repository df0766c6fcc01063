"""The Data tab: your own CSV (drop it or choose it), its label column, a preview, and the
exact reason when a file cannot be used; "Use this data" starts a new run on it. It also
says what the current run trains on.

Flow (the current run is never touched until "Use this data" succeeds):
- dcc.Upload reads the file in the browser; a clientside relay copies its contents into
  STORE_UPLOAD, cut short past the upload cap (so no request is ever over the request cap,
  and the server's decode_upload says the file is too large);
- `data_preview` (upload or label changed) decodes (size checked before anything else),
  parses with mlpcore's CSV rules and the caps of limits.py, and shows rows, columns, classes
  and their counts and the first rows; or mlpcore's exact sentence (DataError), with the
  label chooser still filled from the header when it was read;
- `data_use` (the button) parses again (forms can be forged), keeps the CSV with the session
  (`store.put_data`, out of the tick's way), starts a new run on it with the current run and
  split settings (datasource.new_trainer), and puts "your CSV: <file>" on the data dropdown;
- `data_current` describes the run's data (rows, features, classes, split). Its data change
  only with the run, so it takes the panel protocol's live inputs (the page's run record,
  the open tab) through a clientside gate, GATE: the browser asks the server only when the
  Data tab is open and shows another run than the one described, never on every tick.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from mlpcore import DATASETS, DataError

from .. import ids
from ..datasource import csv_spec, data_meta, load_spec, new_trainer, parse_upload
from ..guards import refused
from ..layout import data_options, error_children
from ..limits import LIMITS
from ..sessions import SessionBusy, StoreUnavailable
from ..validation import CSV, ControlError, validate
from .throttle import Gate

TAB = "data"
LABEL = "Data"

UPLOAD_DATA = "data-upload"
STORE_UPLOAD = "data-upload-store"  # the upload's contents, cut short past the cap
DROPDOWN_LABEL = "data-label-dropdown"
BUTTON_USE = "data-use-button"
DIV_MESSAGE = "data-message"  # why a file was not accepted, or what to do next
DIV_PREVIEW = "data-preview"
DIV_CURRENT = "data-current"  # what the current run trains on
STORE_SHOWN = "data-shown-store"  # the run id DIV_CURRENT describes
STORE_RUN = "data-run-store"  # written by GATE: the run the Data tab should describe

PREVIEW_ROWS = 5
MAX_SHOWN_CHARS = 40  # names and cells in the preview
# the upload's data (the part after "base64,") beyond this is never sent: decode_upload's cap
MAX_CHARS_SENT = 4 * (-(-LIMITS.max_upload_bytes // 3))
RELAY = """
function (contents) {
    if (typeof contents !== "string") { return window.dash_clientside.no_update; }
    var start = contents.indexOf(",") + 1, cap = CAP;
    return contents.length - start > cap ? contents.slice(0, start + cap + 4) : contents;
}
""".replace("CAP", str(MAX_CHARS_SENT))
# live_inputs() (the page's run record, the open tab) + the run described -> STORE_RUN, only
# when the tab is open and the record names another run
GATE = Gate(STORE_RUN, """
function (client, tab, shown) {
    var run = client && client.run;
    if (tab !== "TAB" || typeof run !== "string" || run === shown) {
        return window.dash_clientside.no_update;
    }
    return run;
}
""".replace("TAB", TAB), State(STORE_SHOWN, "data"))
BUSY = "Not applied: this run is busy with another update; press Use this data again."


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


LIMITS_TEXT = (f"A CSV with a header row: numeric feature columns and one label column; up to "
               f"{_mb(LIMITS.max_upload_bytes)}, {LIMITS.max_upload_rows:,} rows, "
               f"{LIMITS.max_upload_columns} columns and {LIMITS.max_classes} classes.")


def layout():
    return html.Div(className="panel-body data-panel", children=[
        html.Div(className="data-load", children=[
            # no `accept` filter: a workbook or an image dropped here is refused with the
            # parser's own reason instead of being ignored by the browser
            dcc.Upload(id=UPLOAD_DATA, multiple=False,
                       className="data-upload", className_active="data-upload-active",
                       children=html.Div([html.Strong("Drop a CSV file here"),
                                          " or click to choose one"])),
            html.Div(LIMITS_TEXT, className="control-hint"),
            html.Div(className="data-choose", children=[
                html.Label("Label column", htmlFor=DROPDOWN_LABEL, className="control-label"),
                dcc.Dropdown(id=DROPDOWN_LABEL, options=[], value=None, clearable=False,
                             placeholder="upload a file first", className="data-label"),
                html.Button("Use this data", id=BUTTON_USE, n_clicks=0, disabled=True,
                            className="button primary",
                            title="Start a new run on this data (the current run ends)"),
            ]),
            html.Div(id=DIV_MESSAGE, className="data-message", role="status"),
        ]),
        html.Div(id=DIV_PREVIEW, className="data-preview"),
        html.Div(id=DIV_CURRENT, className="data-current"),
        dcc.Store(id=STORE_UPLOAD, storage_type="memory"),
        dcc.Store(id=STORE_SHOWN, data="", storage_type="memory"),
        dcc.Store(id=STORE_RUN, data="", storage_type="memory"),
    ])


# ------------------------------------------------------------------------------ helpers
def _short(text) -> str:
    text = str(text)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS - 1] + "…"


def _cell(value: float) -> str:
    return f"{value:.6g}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 'es' if word.endswith('s') else 's'}"


def _counts(names, y) -> list:
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(names))
    return [html.Span(f"{_short(n)} {int(c):,}", className="data-class")
            for n, c in zip(names, counts, strict=True)]


def rejected(filename: str | None, message: str) -> str:
    """The sentence for a file that cannot be used; `message` is mlpcore's, verbatim."""
    message = message if message.endswith(".") else message + "."
    return f"{filename or 'The file'} was not accepted: {message}"


def preview_children(filename: str, d) -> list:
    """What the parsed CSV `d` (mlpcore.csvdata.CsvData) holds: sizes, classes with their
    counts, and the first rows as a table (features, then the label)."""
    n, k = len(d.y), len(d.class_names)
    head = [*map(_short, d.feature_names), _short(d.label)]
    rows = [html.Tr([*(html.Td(_cell(v)) for v in d.X[i]),
                     html.Td(_short(d.class_names[d.y[i]]), className="data-label-cell")])
            for i in range(min(PREVIEW_ROWS, n))]
    return [
        html.Div([html.Strong(_short(filename)), ": ", _plural(n, "row"), ", ",
                  _plural(len(d.feature_names), "feature column"), ", label column ",
                  html.Code(_short(d.label)), " with ", _plural(k, "class")],
                 className="data-sizes"),
        html.Div([html.Span("Classes: ", className="control-label"), *_counts(d.class_names,
                                                                              d.y)],
                 className="data-classes"),
        html.Div(className="data-table-wrap", children=html.Table(className="data-table", children=[
            html.Thead(html.Tr([*(html.Th(h) for h in head[:-1]),
                                html.Th(head[-1], className="data-label-cell")])),
            html.Tbody(rows)])),
        html.Div(f"The first {min(PREVIEW_ROWS, n)} of {n:,} rows.", className="control-hint"),
    ]


def current_children(dataset, data: dict | None) -> list:
    """What a run trains on: its data set, split, sizes and classes (train / test counts)."""
    data = data or {}
    name = data.get("data", "iris")
    title = (f"your CSV: {_short(dataset.name)}" if name == CSV
             else DATASETS[name].title if name in DATASETS else _short(dataset.name))
    split = ("the document's (half of each class)" if data.get("split", "document") == "document"
             else f"train fraction {data.get('train_fraction')}")
    n_train, n_test = len(dataset.X_train), len(dataset.X_test)
    train = np.bincount(dataset.y_train, minlength=dataset.n_classes)
    test = np.bincount(dataset.y_test, minlength=dataset.n_classes)
    return [
        html.H3("This run trains on", className="data-current-title"),
        html.Div([html.Strong(title), f": {n_train + n_test:,} rows ({n_train:,} training, "
                  f"{n_test:,} test), {_plural(dataset.n_features, 'feature')} (",
                  ", ".join(_short(f) for f in dataset.feature_names[:12]),
                  ", …" if dataset.n_features > 12 else "", f"); split: {split}; features ",
                  "standardised (training rows' mean and sd)." if dataset.standardized
                  else "as they are."]),
        html.Div([html.Span("Classes (training / test rows): ", className="control-label"),
                  *[html.Span(f"{_short(c)} {int(a)} / {int(b)}", className="data-class")
                    for c, a, b in zip(dataset.class_names, train, test, strict=True)]],
                 className="data-classes"),
    ]


# ---------------------------------------------------------------------------- callbacks
def data_preview(trigger: str | None, contents, filename, label) -> tuple:
    """(message, preview, label options, label value, Use disabled) for the uploaded file.
    `trigger`: "upload" (a new file: the label is the core's default) or "label"."""
    try:
        s = validate({"upload": contents, "filename": filename, "label": label})
    except ControlError as exc:
        refused("upload", str(exc))
        name = filename if isinstance(filename, str) and len(filename) < 256 else None
        return rejected(name, str(exc)), [], no_update, no_update, True
    if s.upload is None:
        raise PreventUpdate  # no file yet
    try:
        d = parse_upload(s.upload, s.label if trigger == "label" else None)
    except (DataError, ControlError) as exc:
        options = [{"label": _short(c), "value": c} for c in getattr(exc, "columns", None) or []]
        chosen = s.label if trigger == "label" else None
        return (rejected(s.filename, str(exc)), [], options if options else no_update,
                chosen if options else no_update, True)
    options = [{"label": _short(c), "value": c} for c in d.columns]
    return ("Press “Use this data” to start a new run on it.",
            preview_children(s.filename, d), options, d.label, False)


def data_use(store, session, contents, filename, label, controls: dict, lr, reg) -> tuple:
    """Start a new run on the uploaded CSV. Returns (pulse, dropdown options, dropdown value,
    status, message); the status says why when nothing changed."""
    keep = (no_update, no_update, no_update)
    try:
        s = validate({"session": session, "upload": contents, "filename": filename,
                      "label": label, "lr": lr, "reg": reg, **controls})
        if s.upload is None:
            raise PreventUpdate  # no file: the button is disabled until one is previewed
        d = parse_upload(s.upload, s.label)
        spec = csv_spec(s.upload, d.label, s.filename)
        settings = replace(s, data=CSV)
        trainer = new_trainer(settings, store, s.session, spec=load_spec(spec), parsed=d)
    except DataError as exc:  # the preview said so already; a forged request did not ask it
        refused("Use this data", str(exc), session)
        return (*keep, error_children(rejected(filename, str(exc))), no_update)
    except ControlError as exc:
        refused("Use this data", str(exc), session)
        return (*keep, error_children(str(exc)), no_update)
    except ValueError as exc:  # Config's own checks
        refused("Use this data", str(exc), session)
        return (*keep, error_children(f"These settings cannot be used: {exc}"), no_update)
    note = (f"New run on your CSV {s.filename}: {_plural(len(d.y), 'row')}, "
            f"{_plural(len(d.feature_names), 'feature')}, {_plural(len(d.class_names), 'class')}"
            f". Press Train.")
    try:
        with store.session(s.session, lambda: trainer) as sess:
            sess.new_run(trainer, note)
            sess.meta["data"] = data_meta(settings, trainer)
            store.put_data(s.session, spec)
    except SessionBusy:
        return (*keep, error_children(BUSY), no_update)
    except StoreUnavailable as exc:
        return (*keep, error_children(str(exc)), no_update)
    from ..callbacks import pulse

    return (pulse(), data_options(s.filename), CSV, no_update,
            f"In use: {s.filename}. The data dropdown now offers “your CSV”.")


def data_current(store, run, session) -> tuple:
    """(description, run id) of the session's current run's data. `run`: the run the page
    shows (from GATE, which asks only while the tab is open and the run is new to it)."""
    from . import read_run  # the package imports its panels first: at call time

    try:
        validate({"session": session})
    except ControlError as exc:
        refused("data tab", str(exc), session)
        raise PreventUpdate from None
    if not isinstance(run, str) or not run:
        raise PreventUpdate  # nothing to describe (or not a run id: nothing to look at)
    try:
        with read_run(store, session) as s:
            # the session's current run (the page may be an update behind: GATE asks again)
            return current_children(s.trainer.dataset, s.meta.get("data")), s.meta["run"]
    except (ControlError, StoreUnavailable) as exc:
        refused("data tab", str(exc), session)
        raise PreventUpdate from None


# ------------------------------------------------------------------------------- wiring
def register(app, store) -> None:
    from ..callbacks import CONTROL_KEYS, DATA_CONTROLS, LIVE_CONTROLS, RUN_CONTROLS
    from . import live_inputs

    app.clientside_callback(RELAY, Output(STORE_UPLOAD, "data"),
                            Input(UPLOAD_DATA, "contents"), prevent_initial_call=True)

    @app.callback(
        Output(DIV_MESSAGE, "children"),
        Output(DIV_PREVIEW, "children"),
        Output(DROPDOWN_LABEL, "options"),
        Output(DROPDOWN_LABEL, "value"),
        Output(BUTTON_USE, "disabled"),
        Input(STORE_UPLOAD, "data"),
        Input(DROPDOWN_LABEL, "value"),
        State(UPLOAD_DATA, "filename"),
        prevent_initial_call=True,
    )
    def _data_preview(contents, label, filename):
        trigger = "label" if ctx.triggered_id == DROPDOWN_LABEL else "upload"
        return data_preview(trigger, contents, filename, label)

    @app.callback(
        Output(ids.STORE_PULSE, "data", allow_duplicate=True),
        Output(ids.DROPDOWN_DATA, "options"),
        Output(ids.DROPDOWN_DATA, "value", allow_duplicate=True),
        Output(ids.DIV_STATUS, "children", allow_duplicate=True),
        Output(DIV_MESSAGE, "children", allow_duplicate=True),
        Input(BUTTON_USE, "n_clicks"),
        State(ids.STORE_SESSION, "data"),
        State(STORE_UPLOAD, "data"),
        State(UPLOAD_DATA, "filename"),
        State(DROPDOWN_LABEL, "value"),
        *[State(cid, "value") for _key, cid in LIVE_CONTROLS],
        *[State(cid, "value") for _key, cid, _w in RUN_CONTROLS + DATA_CONTROLS],
        prevent_initial_call=True,
    )
    def _data_use(_clicks, session, contents, filename, label, lr, reg, *values):
        return data_use(store, session, contents, filename, label,
                        dict(zip(CONTROL_KEYS, values, strict=True)), lr, reg)

    _client, _tab, session = live_inputs()

    @app.callback(
        Output(DIV_CURRENT, "children"),
        Output(STORE_SHOWN, "data"),
        Input(STORE_RUN, "data"),
        session,
        prevent_initial_call=True,
    )
    def _data_current(run, session_id):
        return data_current(store, run, session_id)
