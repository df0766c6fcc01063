"""Wiring only: the Dash app, its layout and callbacks, and the WSGI server for gunicorn.

    python -m dashboard                  # http://127.0.0.1:8050
    gunicorn dashboard.app:server        # memory sessions: keep -w 1 (one process)
    MLPLAB_REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -w 4 dashboard.app:server

Everything (scripts, styles, Plotly) is served by the app itself: it works offline.
"""

from __future__ import annotations

from pathlib import Path

from dash import Dash

from . import guards, timing
from .callbacks import register_callbacks
from .layout import TITLE, layout
from .panels import register_panels
from .sessions import store_from_env

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(store=None) -> Dash:
    """A new app. `store`: a session store (default: from the environment, see sessions.py)."""
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        title=TITLE,
        update_title=None,  # the tab title stays put while the page updates
        serve_locally=True,
        external_scripts=[],
        external_stylesheets=[],
        on_error=guards.on_callback_error,  # an unexpected error: a status message + a log
    )
    guards.install(app)  # request size cap, malformed requests -> 400, logging
    app.layout = layout  # a function: every page load gets its own session id
    store = store if store is not None else store_from_env()
    register_callbacks(app, store)
    register_panels(app, store)
    timing.install(app)  # Server-Timing on callback responses (read by bench/browser.py)
    return app


app = create_app()
server = app.server
