"""Fault containment at the app's edges: bad requests, unexpected errors, the server log.

- `install(app)` (called by app.create_app):
  * Flask's MAX_CONTENT_LENGTH = limits' max_request_bytes: a larger body gets 413;
  * every POST to /_dash-update-component is parsed and its envelope checked
    (validation.check_callback_request) before Dash sees it: a body that is not JSON gets
    400 (or 415 when it is not sent as JSON), one whose output / outputs / inputs / state are
    not those of a registered callback gets 400. Dash itself would answer those with a 500
    and a traceback in the log. Values are not judged here: the callbacks validate them and
    answer 200 with the reason in the status line;
  * logging: the "mlplab" logger writes to stderr (gunicorn's console, `python -m dashboard`'s
    terminal) unless the process configured logging itself.
- `on_callback_error` is Dash's global `on_error`: an unexpected exception inside a callback
  becomes a status message with a short reference, and ONE log record at ERROR carrying the
  traceback (in the server log only, never in the page). The run is untouched: the session
  store commits nothing when the block inside `store.session(...)` raises. With
  MLPLAB_STRICT=1 (the test suite sets it) the exception is raised instead (a 500), so a bug
  can never hide behind a friendly message in a test.
- `refused(where, message, session)`: the one log line (WARNING, no traceback) for input a
  callback turned down.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid

from dash import ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import ids
from .layout import error_children
from .limits import LIMITS
from .validation import RequestError, check_callback_request

LOG = logging.getLogger("mlplab")
CALLBACK_PATH = "/_dash-update-component"
STRICT_ENV = "MLPLAB_STRICT"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def strict() -> bool:
    """MLPLAB_STRICT=1: unexpected callback errors are raised (tests), not reported."""
    return os.environ.get(STRICT_ENV) == "1"


def clean(text, limit: int = 300) -> str:
    """One log line's worth of `text`: control characters escaped, at most `limit` chars
    (input is quoted in messages, and it must not forge log lines)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def session_tag(raw) -> str:
    """A session id as the log shows it: its first 8 digits, or "-" if it is not an id."""
    return raw[:8] if isinstance(raw, str) and _HEX_ID.fullmatch(raw) else "-"


def refused(where: str, message: str, session=None) -> None:
    LOG.warning("refused %s (session %s): %s", where, session_tag(session), clean(message))


def setup_logging() -> None:
    """Give "mlplab" a stderr handler unless logging is configured already (pytest, an
    operator's dictConfig, ...): its lines then go wherever that configuration says."""
    if LOG.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s [%(process)d] %(levelname)s mlplab: %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)


# ------------------------------------------------------------------------- callbacks
def _is_status(output) -> bool:
    return (isinstance(output, dict) and output.get("id") == ids.DIV_STATUS
            and str(output.get("property", "")).split("@")[0] == "children")


def on_callback_error(err: Exception):
    """Dash's on_error: report an unexpected exception in the status line (if the callback
    writes it; else send nothing) and log it once with its traceback."""
    ref = uuid.uuid4().hex[:8]
    func = getattr(ctx, "triggered_id", None)
    LOG.error("unexpected error in a callback (reference %s, triggered by %s)", ref,
              clean(func, 80), exc_info=err)
    if strict():
        raise err
    message = (f"Something went wrong on the server; this update was not applied (reference "
               f"{ref}). Try again; reload the page if it keeps happening.")
    outputs = ctx.outputs_list
    if isinstance(outputs, dict):
        if _is_status(outputs):
            return error_children(message)
        raise PreventUpdate
    values = [error_children(message) if _is_status(o) else no_update for o in outputs]
    if all(v is no_update for v in values):
        raise PreventUpdate
    return values


# --------------------------------------------------------------------------- requests
MAX_INT_DIGITS = 21  # a browser writes integers of at most 21 digits (1e21 and up: "1e+21")


def _json_int(text: str) -> int:
    """JSON integers as a browser can write them: a longer one (which float() could not
    even convert) makes the body malformed, so Flask answers 400 before any callback."""
    if len(text) > MAX_INT_DIGITS + (text[0] == "-"):
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


class BrowserJSON(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with _json_int."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_int", _json_int)
        return super().loads(s, **kwargs)


def _refuse_request(status: int, why: str):
    LOG.warning("refused a callback request from %s: %d %s",
                clean(request.remote_addr, 60), status, clean(why))
    return (f"Malformed callback request: {why}.\n", status,
            {"Content-Type": "text/plain; charset=utf-8"})


def check_request(app):
    """The before_request hook: None (go on) or a 400 response. HTTP errors raised while
    reading the body (413 too large, 400 not JSON, 415 not sent as JSON) pass through."""
    if request.method != "POST" or not request.path.endswith(CALLBACK_PATH):
        return None
    try:
        body = request.get_json()  # cached: Dash's own get_json() does not parse again
    except RecursionError:
        return _refuse_request(400, "the JSON is nested too deeply")
    except HTTPException as exc:
        LOG.warning("refused a callback request from %s: %s %s",
                    clean(request.remote_addr, 60), exc.code, clean(exc.name))
        raise
    try:
        check_callback_request(body, app.callback_map)
    except RequestError as exc:
        return _refuse_request(400, str(exc))
    return None


def install(app) -> None:
    """Request size cap, request envelope check and logging for a Dash `app`."""
    setup_logging()
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = LIMITS.max_request_bytes
    server.json = BrowserJSON(server)  # integers longer than a browser writes: 400
    server.before_request(lambda: check_request(app))
