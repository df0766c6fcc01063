"""What the performance work changed on the tick path, checked without timing anything:
the Server-Timing header, and heatmaps redrawn on every other update while a run goes on.
"""

from __future__ import annotations

import re

import pytest
from dash import Patch, no_update

from dashboard import callbacks as cb
from dashboard import ids
from dashboard.app import create_app
from dashboard.figures import confusion_values, weight_matrices
from dashboard.sessions import MemoryStore
from dashboard.validation import DEFAULTS, SPEEDS, Settings

SERVER_TIMING = re.compile(r'^app;dur=\d+\.\d\d;desc="(\w+)"$')


# --------------------------------------------------------------------- Server-Timing
def _props(layout) -> dict:
    out, stack = {}, [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if isinstance(props.get("id"), str):
                out.update({(props["id"], k): v for k, v in props.items()})
            stack.extend(v for v in props.values() if isinstance(v, list | dict))
    return out


def _payload(cb_spec: dict, values: dict, changed: list) -> dict:
    """The body dash-renderer POSTs for a callback (as bench/load.py builds it)."""
    def with_value(dep):
        return {**dep, "value": values.get((dep["id"], dep["property"]))}

    return {"output": cb_spec["output"],
            "outputs": [dict(zip(("id", "property"), o.split(".", 1), strict=True))
                        for o in cb_spec["output"].strip(".").split("...")],
            "inputs": [with_value(d) for d in cb_spec["inputs"]],
            "changedPropIds": changed, "parsedChangedPropsIds": changed,
            "state": [with_value(d) for d in cb_spec["state"]]}


@pytest.fixture
def client():
    return create_app(MemoryStore()).server.test_client()


def test_callback_responses_carry_server_timing_named_by_callback(client):
    deps = client.get("/_dash-dependencies").get_json()
    values = _props(client.get("/_dash-layout").get_json())
    tick = next(d for d in deps if {"id": ids.INTERVAL_TICK, "property": "n_intervals"}
                in d["inputs"])
    toggle = next(d for d in deps if {"id": ids.BUTTON_TRAIN, "property": "n_clicks"}
                  in d["inputs"])
    r = client.post("/_dash-update-component", json=_payload(tick, values, []))
    assert r.status_code == 200
    assert SERVER_TIMING.match(r.headers["Server-Timing"]).group(1) == "advance"
    values[(ids.BUTTON_TRAIN, "n_clicks")] = 1
    r = client.post("/_dash-update-component",
                    json=_payload(toggle, values, [f"{ids.BUTTON_TRAIN}.n_clicks"]))
    assert r.status_code == 200
    assert SERVER_TIMING.match(r.headers["Server-Timing"]).group(1) == "toggle"


def test_other_responses_carry_no_server_timing(client):
    assert "Server-Timing" not in client.get("/").headers
    assert "Server-Timing" not in client.get("/_dash-layout").headers


# ------------------------------------------------------------- heatmaps every other update
def _settings(speed=50, it=0):
    return Settings(speed=speed, client_run="a" * 32, client_points=it // 50,
                    client_iteration=it)


@pytest.mark.parametrize(("trigger", "paused", "speed", "before", "after", "due"), [
    ("tick", False, 50, 50, 100, True),    # crosses 2 x 50
    ("tick", False, 50, 100, 150, False),  # the update in between: curves only
    ("tick", False, 50, 100, 200, True),   # a dropped response: crosses again
    ("tick", False, 1, 3, 4, True),
    ("tick", False, 1, 4, 5, False),
    ("tick", False, 0, 100, 900, True),    # top speed: every update
    ("tick", True, 50, 100, 150, True),    # paused or finished: the exact last state
    ("pulse", False, 50, 100, 150, True),  # the answer to Train
    ("step", True, 50, 100, 150, True),
    (None, True, 50, 0, 0, True),
])
def test_heatmaps_due(trigger, paused, speed, before, after, due):
    assert cb.heatmaps_due(trigger, _settings(speed, before), after, paused) is due


def test_running_updates_alternate_and_the_paused_page_is_exact():
    store, session = MemoryStore(), "b" * 32
    controls = {key: DEFAULTS[key] for key in cb.RUN_KEYS}
    speed = SPEEDS.index(50)

    def advance(trigger, client):
        return cb.advance(store, trigger, session, client, speed, DEFAULTS["lr"],
                          DEFAULTS["reg"], controls, [])

    client = advance(None, {"run": None, "n": 0}).client
    cb.toggle_train(store, session, controls, DEFAULTS["lr"], DEFAULTS["reg"])
    r = advance("pulse", client)
    kinds = [(isinstance(r.confusion, Patch), isinstance(r.weights, Patch))]
    for _ in range(4):
        r = advance("tick", r.client)
        assert isinstance(r.curves, Patch)  # the curves never skip an update
        kinds.append((r.confusion is not no_update, r.weights is not no_update))
    assert kinds == [(True, True), (True, True), (False, False), (True, True), (False, False)]
    cb.toggle_train(store, session, controls, DEFAULTS["lr"], DEFAULTS["reg"])  # Pause
    r = advance("pulse", r.client)
    assert r.state == "paused" and r.curves is no_update  # no new points: none sent
    with store.session(session, lambda: None) as s:  # what the heatmaps must show now
        expected = (confusion_values(s.trainer.confusion("test")),
                    weight_matrices(s.trainer.params))
    assert _assigned(r.confusion) == [expected[0]]
    assert _assigned(r.weights) == expected[1]


def _assigned(patch: Patch) -> list:
    return [op["params"]["value"] for op in patch.to_plotly_json()["operations"]
            if op["operation"] == "Assign"]
