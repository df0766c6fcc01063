"""A `Server-Timing` header on every Dash callback response: how long the server took.

    Server-Timing: app;dur=3.12;desc="advance"

`dur` is milliseconds from the request reaching Flask to the response being ready (reading
the payload, the callback, serialising the answer); `desc` names the callback (its function
name without the leading underscore, e.g. "advance" for the tick). Browsers show it in the
network panel and hand it to scripts through the Resource Timing API
(`PerformanceResourceTiming.serverTiming`), which is how bench/browser.py reads the server
time per tick. It reveals nothing a user could not time from outside.
"""

from __future__ import annotations

import time

from flask import g, request

CALLBACK_PATH = "_dash-update-component"


def callback_name(app, output: str) -> str:
    """The name of the function registered for Dash's `output` key ("callback" if unknown)."""
    entry = app.callback_map.get(output)
    func = entry.get("callback") if isinstance(entry, dict) else None
    return getattr(func, "__name__", "callback").lstrip("_") or "callback"


def install(app) -> None:
    """Add the header to `app`'s (a Dash app) callback responses."""
    server = app.server

    @server.before_request
    def _start_clock():
        g.mlplab_started = time.perf_counter()

    @server.after_request
    def _server_timing(response):
        started = g.pop("mlplab_started", None)
        if started is None or not request.path.endswith(CALLBACK_PATH):
            return response
        ms = (time.perf_counter() - started) * 1000
        body = request.get_json(silent=True)  # already parsed by Dash: cached, no cost
        output = body.get("output") if isinstance(body, dict) else None
        name = callback_name(app, output) if isinstance(output, str) else "callback"
        response.headers["Server-Timing"] = f'app;dur={ms:.2f};desc="{name}"'
        return response
