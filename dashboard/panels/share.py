"""The Share tab: every setting in the page's link, classroom mode, and the run as files.

Link. The settings live in the URL query (dcc.Location ids.LOCATION_URL, refresh=False;
mlpcore.urlstate with the dashboard's own bounds). One callback, `sync_link`, serves both
directions, so the two cannot chase each other:
- the query changed (the page was opened, or Back/Forward): the link's settings, checked
  (query_to_settings: defaults for anything unusable, a sentence for each), go onto the
  controls and start a new run with them (as Reset would); the status line says what the
  link set and what it could not use;
- a control changed: the query is rewritten (only what differs from the defaults).
`?hide=activation,layers` (urlstate.HIDEABLE names) is classroom mode: classes on the
classroom marker (ids.DIV_CLASSROOM) hide those controls (assets/share.css). An uploaded CSV
cannot travel in a link: the link then leaves the data set out (it opens with iris).

Export. The trained model as JSON (mlpcore.export: config, data description, parameters),
the history as CSV, and an R script that replays the run with the document's own functions
(mlpcore.rscript); the R button is disabled, with the reasons, when the run cannot be
replayed there (more than one hidden layer, another activation, ...).
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from mlpcore.export import history_to_csv, model_to_json
from mlpcore.rscript import r_script, r_script_problems
from mlpcore.urlstate import HIDEABLE, UrlBounds, query_to_settings, settings_to_query

from .. import ids, panels  # panels: attributes used at call time (it imports us)
from ..guards import refused
from ..limits import LIMITS
from ..sessions import SessionBusy, StoreUnavailable
from ..validation import (
    CSV,
    DISPLAY_RANGE,
    LR_VALUES,
    REG_VALUES,
    SEED_RANGE,
    SPEEDS,
    STANDARDIZE,
    ControlError,
    data_settings,
    validate,
)
from .throttle import Gate

TAB = "share"
LABEL = "Share"

TEXT_LINK = "share-link"
CLIPBOARD_LINK = "share-copy"
TEXT_SHARE_NOTE = "share-note"
BUTTON_EXPORT_MODEL = "export-model-button"
BUTTON_EXPORT_HISTORY = "export-history-button"
BUTTON_EXPORT_R = "export-r-button"
TEXT_EXPORT_R = "export-r-note"
TEXT_EXPORT_NOTE = "export-note"
DOWNLOAD_EXPORT = "export-download"
STORE_EXPORT_RUN = "export-run-store"  # the run whose R problems the tab shows
STORE_SHARE_RUN = "share-run-store"  # written by GATE: the run to check, tab open
# live_inputs() and the run checked -> STORE_SHARE_RUN in the browser, only while this tab is
# open and the page shows another run: the R check runs once per run, never per tick
GATE = Gate(STORE_SHARE_RUN, """
function (client, tab, shown) {
    var run = client && client.run;
    if (tab !== "TAB" || typeof run !== "string" || run === shown) {
        return window.dash_clientside.no_update;
    }
    return client;
}
""".replace("TAB", TAB), State(STORE_EXPORT_RUN, "data"))

BOUNDS = UrlBounds(max_hidden=LIMITS.max_hidden_units, max_layers=LIMITS.max_hidden_layers,
                   max_iterations=LIMITS.max_iterations, display_range=DISPLAY_RANGE,
                   seed_range=SEED_RANGE, speeds=tuple(s or 0 for s in SPEEDS),
                   lr_values=LR_VALUES, reg_values=REG_VALUES)
SPEED_KEY = ("speed", ids.SLIDER_SPEED)


# Classroom mode: what each urlstate.HIDEABLE name hides (assets/share.css holds
# classroom_css(); a test keeps the two in step)
HIDE_SELECTORS = {
    "hidden": ".control:has(#hidden-slider)",
    "layers": ".control:has(#layers-slider)",
    "lr": ".control:has(#lr-slider)",
    "reg": ".control:has(#reg-slider)",
    "maxit": ".control:has(#maxit-slider)",
    "seed": ".control:has(#seed-input)",
    "display": ".control:has(#display-input)",
    "speed": ".control:has(#speed-slider)",
    "activation": ".control:has(#activation-radio)",
    "data": "#data-dropdown, #data-info, #data-points-control, #data-classes-control, "
            "#data-noise-control",
    "split": ".control:has(#split-radio), #train-fraction-control",
    "standardize": "#standardize-checklist",
    "upload": ".data-load",
    "sweep": ".compare-sweep",
    "pins": ".compare-pins",
    "export": ".share-export",
    "curves": ".control:has(#curves-checklist)",
}


def classroom_css() -> str:
    """The rules of assets/share.css that hide the controls a link names."""
    rules = []
    for name in HIDEABLE:
        selectors = ",\n".join(f"body:has(#{ids.DIV_CLASSROOM}.hide-{name}) {sel.strip()}"
                               for sel in HIDE_SELECTORS[name].split(","))
        rules.append(f"{selectors} {{ display: none !important; }}")
    return "\n".join(rules) + "\n"


class LinkResult(NamedTuple):
    search: object
    controls: tuple  # values for link_controls(), in order
    sliders: tuple  # the data parameter sliders' other props (slider_props()), in order
    classroom: object
    pulse: object
    note: object


# ------------------------------------------------------------------------------ layout
def layout():
    return html.Div(className="panel-body share", children=[
        html.Section(className="share-link", children=[
            html.H3("A link to these settings"),
            html.Div(className="share-row", children=[
                html.Code(id=TEXT_LINK, className="share-url"),
                html.Div(className="button share-copy", title="Copy the link", children=[
                    dcc.Clipboard(id=CLIPBOARD_LINK, target_id=TEXT_LINK,
                                  className="share-clipboard"),
                    html.Span("Copy link"),
                ]),
            ]),
            html.P(["Whoever opens it gets these settings and a new run with them. The link "
                    "follows the controls as you change them. Classroom mode: add ",
                    html.Code("&hide=activation,layers"), " (any of ",
                    html.Code(", ".join(HIDEABLE)), ") to hide controls."],
                   className="control-hint"),
            html.Div(id=TEXT_SHARE_NOTE, className="share-note", role="status"),
        ]),
        html.Section(className="share-export", children=[
            html.H3("Export this run"),
            html.Div(className="share-row", children=[
                html.Button("Model (JSON)", id=BUTTON_EXPORT_MODEL, n_clicks=0,
                            className="button", title="Config, data description, weights"),
                html.Button("History (CSV)", id=BUTTON_EXPORT_HISTORY, n_clicks=0,
                            className="button", title="Loss and accuracy at every display step"),
                html.Button("R script", id=BUTTON_EXPORT_R, n_clicks=0, className="button",
                            title="Replays the run with the document's train.dnn"),
            ]),
            html.Div(id=TEXT_EXPORT_R, className="control-hint"),
            html.Div(id=TEXT_EXPORT_NOTE, className="share-note", role="status"),
            dcc.Download(id=DOWNLOAD_EXPORT),
            dcc.Store(id=STORE_EXPORT_RUN, data="", storage_type="memory"),  # not None
            dcc.Store(id=STORE_SHARE_RUN, data={}, storage_type="memory"),
        ]),
    ])


# ------------------------------------------------------------------- link <-> controls
def link_controls() -> tuple:
    """(settings key, component id) of every control in the link, in the callback's order:
    the run controls, lr and reg, speed, the data controls."""
    from ..callbacks import DATA_CONTROLS, LIVE_CONTROLS, RUN_CONTROLS

    return (*((k, cid) for k, cid, _w in RUN_CONTROLS), *LIVE_CONTROLS, SPEED_KEY,
            *((k, cid) for k, cid, _w in DATA_CONTROLS))


def slider_props() -> tuple:
    """(slider id, prop) of the data parameter sliders' ranges (a set has its own)."""
    from ..callbacks import PARAM_SLIDERS, SLIDER_PROPS

    return tuple((cid, prop) for cid in PARAM_SLIDERS.values() for prop in SLIDER_PROPS
                 if prop != "value")


def classroom_class(hide) -> str:
    return " ".join(["classroom", *(f"hide-{n}" for n in hide)])


def link_settings(settings) -> dict:
    """Validated Settings (every link control given) -> urlstate's settings."""
    data = data_settings(settings)
    out = {"hidden": settings.hidden, "layers": settings.layers, "lr": settings.lr,
           "reg": settings.reg, "maxit": settings.maxit, "seed": settings.seed,
           "display": settings.display, "speed": settings.speed,
           "activation": settings.activation, "split": data["split"],
           "train": data["train_fraction"], "standardize": data["standardize"],
           "hide": list(settings.hide or ())}
    if data["data"] != CSV:  # an upload cannot travel in a link
        out.update({key: data[key] for key in ("data", "points", "classes", "noise")})
    return out


def controls_query(raw: dict, hide_class) -> str:
    """The query for the controls' raw values (by settings key) and the classroom marker's
    classes: "?..." with what differs from the defaults, or "" (ControlError if a value
    does not validate)."""
    settings = validate({**raw, "hide": hide_class})
    try:
        query = settings_to_query(link_settings(settings), BOUNDS, omit_defaults=True)
    except ValueError as exc:
        raise ControlError(f"These settings cannot be put in a link: {exc}") from None
    return f"?{query}" if query else ""


def query_controls(query: str) -> tuple[dict, tuple, list[str], set]:
    """A link's query -> (raw control values by settings key, hidden controls, the problems
    in words, the setting keys the link gave). Never raises (urlstate's defaults)."""
    url, errors = query_to_settings(query, BOUNDS)
    given = {key for key, _v in _pairs(query)}
    speed = url["speed"] or None
    raw = {"hidden": url["hidden"], "layers": url["layers"],
           "lr": LR_VALUES.index(url["lr"]), "reg": REG_VALUES.index(url["reg"]),
           "maxit": url["maxit"], "seed": url["seed"], "display": url["display"],
           "speed": SPEEDS.index(speed), "activation": url["activation"],
           "data": url["data"], "points": url["points"], "classes": url["classes"],
           "noise": url["noise"], "split": url["split"], "train_fraction": url["train"],
           "standardize": [STANDARDIZE] if url["standardize"] else []}
    return raw, tuple(url["hide"]), errors, given


def _pairs(query: str):
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(query.lstrip("?"), keep_blank_values=True, max_num_fields=60)
    except ValueError:
        return []


def open_link(store, session, search) -> LinkResult:
    """The page was opened with (or went Back to) `search`: its settings onto the controls and
    a new run with them. Returns what sync_link sends."""
    from ..callbacks import fresh_session, pulse
    from ..datasource import data_meta, new_trainer

    keys = link_controls()
    settings = validate({"session": session, "query": search})
    sid = settings.session
    raw, hide, errors, given = query_controls(settings.query)
    if not (given - {"hide"}) and not errors:  # no settings: the page as it is
        return LinkResult(no_update, (no_update,) * len(keys),
                          (no_update,) * len(slider_props()), classroom_class(hide),
                          no_update, no_update)
    try:
        settings = validate({**raw, "session": sid})
        trainer = new_trainer(settings, store, sid)
    except ControlError as exc:  # e.g. a network too big for the data: the defaults
        errors.append(f"Together these settings cannot be used ({exc}); using the defaults.")
        raw, _hide, _e, _g = query_controls("")
        settings = validate({**raw, "session": sid})
        trainer = new_trainer(settings, store, sid)
    applied = link_settings(settings)
    words = settings_to_query(applied, BOUNDS, omit_defaults=True)
    note = ("Opened a link: " + (words.replace("&", ", ").replace("=", " ") or "the defaults")
            + ". Press Train.")
    query = settings_to_query({**applied, "hide": list(hide)}, BOUNDS, omit_defaults=True)
    if errors:
        note += " Not used: " + " ".join(errors)
    create, _made = fresh_session(settings, store)
    with store.session(sid, create) as s:
        s.new_run(trainer, note)
        s.meta["data"] = data_meta(settings, trainer)
    values = tuple(_control_value(key, raw) for key, _cid in keys)
    return LinkResult(f"?{query}" if query else "", values, _slider_ranges(raw["data"]),
                      classroom_class(hide), pulse(), " ".join(errors) or no_update)


def _control_value(key: str, raw: dict):
    value = raw[key]
    if key in ("points", "classes", "noise", "train_fraction") and value is None:
        return no_update  # does not apply to this set / split: the slider keeps its value
    return value


def _slider_ranges(name: str) -> tuple:
    """The data parameter sliders' ranges for set `name` (their values come separately)."""
    from ..callbacks import param_sliders

    ranges = param_sliders(name)
    return tuple(ranges.get(key, no_update) for key in slider_props())


def sync_link(store, trigger, session, search, hide_class, values: dict) -> LinkResult:
    """Both directions of the link (see the module docstring). `trigger`: "url" (the query
    changed) or "controls"."""
    keys = link_controls()
    # every value first, whichever the direction: the session, the address, the classroom
    # classes, the controls (ControlError names the first bad one)
    validate({"session": session, "query": search, "hide": hide_class, **values})
    if trigger == "url":
        return open_link(store, session, search)
    query = controls_query(values, hide_class)
    if query == (search or ""):
        raise PreventUpdate
    return LinkResult(query, (no_update,) * len(keys), (no_update,) * len(slider_props()),
                      no_update, no_update, no_update)


def link_text(tab, search, href) -> str:
    """The full link the Share tab shows (and Copy link copies)."""
    query = validate({"query": search}).query
    panels.showing(tab, TAB)
    parts = urlsplit(validate({"href": href}).href)  # read only while the tab shows it
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}"


# ------------------------------------------------------------------------------ export
EXPORTS = {BUTTON_EXPORT_MODEL: "model", BUTTON_EXPORT_HISTORY: "history", BUTTON_EXPORT_R: "r"}


def export_file(store, which: str, session) -> tuple:
    """(dcc.Download data, note) for the session's run: "model" (JSON), "history" (CSV) or
    "r" (the replay script)."""
    with panels.read_run(store, session) as s:
        trainer = s.trainer
        it = trainer.iteration
        if which == "model":
            text, name = model_to_json(trainer, indent=1), f"mlplab-model-{it}.json"
        elif which == "history":
            text, name = history_to_csv(trainer), f"mlplab-history-{it}.csv"
        else:
            try:
                text, name = r_script(trainer), f"mlplab-replay-{it}.R"
            except ValueError as exc:
                raise ControlError(str(exc)) from None
        diverged = trainer.status == "diverged"
    note = f"Downloaded {name}."
    if which == "model" and diverged:
        note += " This run diverged: its weights are not finite, so the model cannot be loaded."
    return dcc.send_string(text, name), note


def r_state(store, client, tab, session, shown_run) -> tuple:
    """(R button disabled, the reasons, the run they are for): recomputed when the run
    changes, while the tab is open."""
    run = validate({"client": client, "session": session}).client_run
    panels.showing(tab, TAB)
    if run is not None and run == shown_run:
        raise PreventUpdate
    with panels.read_run(store, session) as s:
        problems = r_script_problems(s.trainer)
        run = s.meta["run"]
    if not problems:
        return False, "The R script replays this run with the document's own functions.", run
    return True, "No R script for this run: " + "; ".join(problems) + ".", run


# ------------------------------------------------------------------------------ wiring
def register(app, store) -> None:
    keys = link_controls()
    props = slider_props()
    n_keys = len(keys)

    @app.callback(
        Output(ids.LOCATION_URL, "search"),
        *[Output(cid, "value", allow_duplicate=True) for _key, cid in keys],
        *[Output(cid, prop, allow_duplicate=True) for cid, prop in props],
        Output(ids.DIV_CLASSROOM, "className"),
        Output(ids.STORE_PULSE, "data", allow_duplicate=True),
        Output(TEXT_SHARE_NOTE, "children"),
        Input(ids.LOCATION_URL, "search"),
        *[Input(cid, "value") for _key, cid in keys],
        State(ids.STORE_SESSION, "data"),
        State(ids.DIV_CLASSROOM, "className"),
        prevent_initial_call=True,
    )
    def _share_link(search, *rest):
        values, (session, hide_class) = rest[:n_keys], rest[n_keys:]
        trigger = "url" if ctx.triggered_id == ids.LOCATION_URL else "controls"
        try:
            r = sync_link(store, trigger, session, search, hide_class,
                          dict(zip((k for k, _c in keys), values, strict=True)))
        except ControlError as exc:
            refused("link", str(exc), session)
            raise PreventUpdate from None
        except (SessionBusy, StoreUnavailable) as exc:  # nothing was changed
            busy = "this tab's run is busy" if isinstance(exc, SessionBusy) else exc
            r = LinkResult(no_update, (no_update,) * n_keys, (no_update,) * len(props),
                           no_update, no_update, f"The link's settings were not applied "
                                                 f"({busy}); reload the page to try again.")
        return (r.search, *r.controls, *r.sliders, r.classroom, r.pulse, r.note)

    @app.callback(
        Output(TEXT_LINK, "children"),
        Input(ids.TABS_PANELS, "value"),
        Input(ids.LOCATION_URL, "search"),
        State(ids.LOCATION_URL, "href"),
    )
    def _share_text(tab, search, href):
        try:
            return link_text(tab, search, href)
        except ControlError as exc:
            refused("link text", str(exc))
            raise PreventUpdate from None

    @app.callback(
        Output(DOWNLOAD_EXPORT, "data"),
        Output(TEXT_EXPORT_NOTE, "children"),
        Input(BUTTON_EXPORT_MODEL, "n_clicks"),
        Input(BUTTON_EXPORT_HISTORY, "n_clicks"),
        Input(BUTTON_EXPORT_R, "n_clicks"),
        State(ids.STORE_SESSION, "data"),
        prevent_initial_call=True,
    )
    def _share_export(_model, _history, _r, session):
        which = EXPORTS.get(ctx.triggered_id)
        if which is None:
            raise PreventUpdate
        try:
            return export_file(store, which, session)
        except ControlError as exc:
            refused("export", str(exc), session)
            return no_update, f"Not exported: {exc}"
        except StoreUnavailable as exc:
            return no_update, f"Not exported: {exc}"

    _client, tab, session = panels.live_inputs()

    @app.callback(
        Output(BUTTON_EXPORT_R, "disabled"),
        Output(TEXT_EXPORT_R, "children"),
        Output(STORE_EXPORT_RUN, "data"),
        Input(STORE_SHARE_RUN, "data"),
        State(ids.TABS_PANELS, "value"), session,
        State(STORE_EXPORT_RUN, "data"),
        prevent_initial_call=True,
    )
    def _share_r(client_record, open_tab, sid, shown_run):
        try:
            return r_state(store, client_record, open_tab, sid, shown_run)
        except ControlError as exc:
            refused("R script check", str(exc), sid)
            raise PreventUpdate from None
        except StoreUnavailable:
            raise PreventUpdate from None
