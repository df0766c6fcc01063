"""Helpers for tests/test_reliability_*.py: callback requests built exactly as Dash's renderer
sends them, a browser tab simulated over plain HTTP, and servers and processes to break.

CAPTURED_TICK is a real request: the body headless Chromium 156 posted for the first tick after
Train (dash 4.4.1, captured by a before_request hook). `callback_body` builds the same envelope
for any registered callback from `app.callback_map`; test_reliability_http.py checks, in a
browser, that what it builds equals what the browser sends, callback by callback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from conftest import apply_patch, free_port, wait_for_port

from dashboard import ids
from dashboard.validation import DEFAULTS
from mlpcore import Config, Trainer

REPO = Path(__file__).resolve().parent.parent
CALLBACK_URL = "/_dash-update-component"

CAPTURED_TICK = json.loads("""
{"output":"..curves-graph.figure...confusion-graph.figure...weights-graph.figure...status.children...status.data-state...status.data-iteration...client-store.data...tick-interval.max_intervals...train-button.children..",
 "outputs":[{"id":"curves-graph","property":"figure"},{"id":"confusion-graph","property":"figure"},{"id":"weights-graph","property":"figure"},
  {"id":"status","property":"children"},{"id":"status","property":"data-state"},{"id":"status","property":"data-iteration"},
  {"id":"client-store","property":"data"},{"id":"tick-interval","property":"max_intervals"},{"id":"train-button","property":"children"}],
 "inputs":[{"id":"tick-interval","property":"n_intervals","value":1},
  {"id":"step-button","property":"n_clicks","value":0},
  {"id":"pulse-store","property":"data","value":"8c4e14474f0743bb8f04b4f4084b23e9"}],
 "changedPropIds":["tick-interval.n_intervals"],
 "parsedChangedPropsIds":["tick-interval.n_intervals"],
 "state":[{"id":"session-store","property":"data","value":"a1607e1b1c9d47ba913eb72ca345e8eb"},{"id":"client-store","property":"data","value":{"run":"805c8efbe4024602affe2c990570b97e","n":1,"it":50}},
  {"id":"speed-slider","property":"value","value":5},{"id":"lr-slider","property":"value","value":12},
  {"id":"reg-slider","property":"value","value":19},{"id":"curves-checklist","property":"value","value":[]},
  {"id":"hidden-slider","property":"value","value":6},{"id":"layers-slider","property":"value","value":1},
  {"id":"activation-radio","property":"value","value":"relu"},{"id":"seed-input","property":"value","value":1},
  {"id":"display-input","property":"value","value":50},{"id":"maxit-slider","property":"value","value":3000},
  {"id":"data-dropdown","property":"value","value":"iris"},{"id":"data-points-slider","property":"value","value":100},
  {"id":"data-classes-slider","property":"value","value":3},{"id":"data-noise-slider","property":"value","value":0.2},
  {"id":"split-radio","property":"value","value":"document"},{"id":"train-fraction-slider","property":"value","value":0.7},
  {"id":"standardize-checklist","property":"value","value":[]}]}
""")

# control name (validation.validate's key) -> component id holding its value
CONTROL_IDS = {
    "hidden": ids.SLIDER_HIDDEN, "layers": ids.SLIDER_LAYERS, "lr": ids.SLIDER_LR,
    "reg": ids.SLIDER_REG, "maxit": ids.SLIDER_MAXIT, "seed": ids.INPUT_SEED,
    "display": ids.INPUT_DISPLAY, "activation": ids.RADIO_ACTIVATION,
    "speed": ids.SLIDER_SPEED, "curves": ids.CHECKLIST_CURVES,
    # the data controls (issue 8); a page that sends none trains on iris
    "data": ids.DROPDOWN_DATA, "points": ids.SLIDER_DATA_POINTS,
    "classes": ids.SLIDER_DATA_CLASSES, "noise": ids.SLIDER_DATA_NOISE,
    "split": ids.RADIO_SPLIT, "train_fraction": ids.SLIDER_TRAIN_FRACTION,
    "standardize": ids.CHECKLIST_STANDARDIZE,
}
VALIDATED = {**{cid: key for key, cid in CONTROL_IDS.items()},
             ids.STORE_SESSION: "session", ids.STORE_CLIENT: "client",
             # the Data tab's upload (dashboard/panels/data.py)
             "data-upload-store": "upload", "data-upload": "filename",
             "data-label-dropdown": "label",
             # the panels of issue 7 (dashboard/panels/inspector.py, boundary.py, health.py)
             "inspect-row-input": "inspect_row", "inspect-mode-radio": "inspect_mode",
             "inspect-pick-store": "pick", "inspect-shown-store": "shown",
             "boundary-shown-store": "shown", "health-shown-store": "shown",
             "boundary-x-dropdown": "feature_x", "boundary-y-dropdown": "feature_y",
             "boundary-graph": "point_click", ids.GRAPH_CONFUSION: "cell_click",
             "inspect-live-store": "client", "boundary-live-store": "client",
             "health-live-store": "client",
             # the Compare and Share tabs of issue 9 (dashboard/panels/compare.py, share.py)
             "sweep-lr-dropdown": "sweep_lrs", "sweep-reg-dropdown": "sweep_regs",
             "sweep-iterations-input": "sweep_iterations", "sweep-metric-radio": "sweep_metric",
             "sweep-graph": "sweep_click", "sweep-live-store": "sweep_record",
             "sweep-store": "sweep_record", "sweep-plan-store": "sweep_plan",
             ids.LOCATION_URL: "query", ids.DIV_CLASSROOM: "hide",
             "compare-run-store": "client", "share-run-store": "client"}


# What a fresh page holds in the Compare and Share tabs (issue 9) and the address
PAGE_VALUES = {"sweep-lr-dropdown": [6, 12, 18, 24], "sweep-reg-dropdown": [0, 19, 25],
               "sweep-iterations-input": 1000, "sweep-metric-radio": "test_accuracy",
               "sweep-plan-store": {}, "sweep-live-store": {}, "sweep-store": {},
               "export-run-store": "", ids.LOCATION_URL: "", ids.DIV_CLASSROOM: "classroom",
               "compare-run-store": {}, "share-run-store": {},
               # the issue-7 panels' stores and choices (inspector, boundary, health)
               "inspect-live-store": {}, "boundary-live-store": {}, "health-live-store": {},
               "inspect-shown-store": {}, "boundary-shown-store": {}, "health-shown-store": {},
               "inspect-pick-store": {}, "inspect-row-input": 1, "inspect-mode-radio": "sample"}


# ------------------------------------------------------------------------ request bodies
def callback_specs(app) -> dict:
    """{callback function name without "_" (advance, toggle, restart, show_values,
    show_curves, ...): (output key, callback_map entry)}. Clientside callbacks (no server
    function: the browser runs them, nothing can be posted to them) are left out."""
    specs = {}
    for key, spec in app.callback_map.items():
        if "callback" not in spec:
            continue
        name = spec["callback"].__name__.lstrip("_")
        specs[name] = (key, spec)
    return specs


def _outputs(key: str, spec):
    """The "outputs" the renderer sends: {"id", "property"} each, hash suffix kept."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = []
    for part in parts:  # "id.prop" or "id.prop@hash" (allow_duplicate); hashes are hex
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if isinstance(spec["output"], list | tuple) else outs[0]


def callback_body(specs: dict, name: str, values: dict, changed: list[str]) -> dict:
    """The body the renderer posts for callback `name`; `values`: component id -> value
    (missing ids are sent as None, as the renderer does for unset props)."""
    key, spec = specs[name]

    def deps(items):
        # a pattern-matching dependency (ALL; callback_map keeps its id as JSON) is the list
        # of the matching components' entries: values[its id], or none
        # (a component with two props in one callback: values["id.prop"] wins over values[id])
        return [values.get(d["id"], []) if d["id"].startswith("{") else
                {"id": d["id"], "property": d["property"],
                 "value": values.get(f"{d['id']}.{d['property']}", values.get(d["id"]))}
                for d in items]

    # the renderer parses a pattern-matching id's JSON (and drops its property) in the latter
    parsed = [json.loads(c.rsplit(".", 1)[0]) if c.startswith("{") else c for c in changed]
    body = {"output": key, "outputs": _outputs(key, spec), "inputs": deps(spec["inputs"]),
            "changedPropIds": list(changed), "parsedChangedPropsIds": parsed}
    if spec["state"]:  # the renderer leaves "state" out when there is none
        body["state"] = deps(spec["state"])
    return body


def component_text(node) -> str:
    """All the text of a serialised Dash component tree."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return " ".join(component_text(n) for n in node)
    if isinstance(node, dict):
        return component_text(node.get("props", {}).get("children"))
    return ""


# ------------------------------------------------------------------------ a tab over HTTP
class HttpPage:
    """A browser tab speaking HTTP to a server: the controls, the client record, the
    figures; responses applied as the renderer applies them, or dropped (no response)."""

    FIGURES = (ids.GRAPH_CURVES, ids.GRAPH_CONFUSION, ids.GRAPH_WEIGHTS)

    def __init__(self, base_url: str, specs: dict, http=None, **controls):
        self.url = base_url + CALLBACK_URL
        self.specs = specs
        self.http = http or requests.Session()
        self.session = uuid.uuid4().hex
        self.client = {"run": None, "n": 0}
        self.figures = {fid: None for fid in self.FIGURES}
        self.status, self.state, self.iteration = "", "ready", 0
        self.max_intervals, self.label, self.n_intervals = 0, "Train", 0
        self.pulse, self.clicks = "", {}
        self.controls = {**DEFAULTS, **controls}
        self.codes = []  # every HTTP status this page received

    def values(self) -> dict:
        v = dict(PAGE_VALUES)
        v.update({CONTROL_IDS[k]: val for k, val in self.controls.items()})
        v.update({ids.STORE_SESSION: self.session, ids.STORE_CLIENT: self.client,
                  ids.STORE_PULSE: self.pulse, ids.INTERVAL_TICK: self.n_intervals})
        for button, n in self.clicks.items():
            v[button] = n
        return v

    def post(self, name, changed, timeout=30, **override):
        values = {**self.values(), **override}
        body = callback_body(self.specs, name, values, changed)
        r = self.http.post(self.url, json=body, timeout=timeout)
        self.codes.append(r.status_code)
        assert r.status_code in (200, 204), (r.status_code, r.text[:500])
        assert "Traceback" not in r.text
        return r.json()["response"] if r.status_code == 200 else None

    def apply(self, response) -> None:
        if response is None:
            return
        for fid in self.FIGURES:
            if fid in response:
                fig = response[fid]["figure"]
                if isinstance(fig, dict) and "__dash_patch_update" in fig:
                    self.figures[fid] = apply_patch(self.figures[fid], fig)
                else:
                    self.figures[fid] = fig
        status = response.get(ids.DIV_STATUS, {})
        if "children" in status:
            self.status = component_text(status["children"])
        self.state = status.get("data-state", self.state)
        self.iteration = status.get("data-iteration", self.iteration)
        self.client = response.get(ids.STORE_CLIENT, {}).get("data", self.client)
        self.max_intervals = response.get(ids.INTERVAL_TICK, {}).get(
            "max_intervals", self.max_intervals)
        self.label = response.get(ids.BUTTON_TRAIN, {}).get("children", self.label)
        new_pulse = response.get(ids.STORE_PULSE, {}).get("data")
        if new_pulse:
            self.pulse = new_pulse

    def tick(self, trigger="tick", drop=False, **override):
        """One run of the tick callback; `trigger`: None (page load), tick, step, pulse."""
        changed = {"tick": [f"{ids.INTERVAL_TICK}.n_intervals"],
                   "step": [f"{ids.BUTTON_STEP}.n_clicks"],
                   "pulse": [f"{ids.STORE_PULSE}.data"], None: []}[trigger]
        if trigger == "tick":
            self.n_intervals += 1
        elif trigger == "step":
            self.clicks[ids.BUTTON_STEP] = self.clicks.get(ids.BUTTON_STEP, 0) + 1
        response = self.post("advance", changed, **override)
        if not drop:
            self.apply(response)
        return response

    def click(self, name, button):
        self.clicks[button] = self.clicks.get(button, 0) + 1
        response = self.post(name, [f"{button}.n_clicks"])
        self.apply(response)
        if response and ids.STORE_PULSE in response:
            self.tick("pulse")
        return response

    def toggle(self):
        return self.click("toggle", ids.BUTTON_TRAIN)

    def reset(self):
        return self.click("restart", ids.BUTTON_RESET)

    @property
    def running(self) -> bool:
        return self.max_intervals == -1

    def curve(self, trace=0):
        data = self.figures[ids.GRAPH_CURVES]["data"][trace]
        return data["x"], data["y"]


# -------------------------------------------------------------------------- concurrency
def fire_at_once(url, body, n):
    """n identical requests, released together from n threads; [(status, json or None)]."""
    barrier = threading.Barrier(n)

    def one(_i):
        with requests.Session() as http:
            barrier.wait()
            r = http.post(url + CALLBACK_URL, json=body, timeout=60)
            return r.status_code, (r.json() if r.status_code == 200 else None)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def check_concurrent_ticks(results, base, speed, trainer_state, n):
    """Every served tick advanced the run by exactly `speed` from a distinct starting point,
    the busy ones (204) did nothing, and the stored run is the core's run of that length."""
    codes = [code for code, _ in results]
    assert set(codes) <= {200, 204}, codes
    served = [r["response"][ids.DIV_STATUS]["data-iteration"] for code, r in results
              if code == 200]
    assert sorted(served) == [base + speed * k for k in range(1, len(served) + 1)], served
    iteration, params = trainer_state
    assert iteration == base + speed * len(served)
    reference = Trainer(Config.document())
    reference.step(iteration)
    for k, v in reference.params.items():
        np.testing.assert_array_equal(params[k], v)
    return len(served), codes.count(204)


# ------------------------------------------------------------------------------ servers
class ThreadedServer:
    """The app's WSGI server on a free port, in this process (werkzeug, threaded)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app.server, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._thread.join(10)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


class Gunicorn:
    """`gunicorn -w <workers> --threads <threads> dashboard.app:server` on a free port; its
    output goes to `log` (our app logs to stderr, gunicorn's own lines too)."""

    def __init__(self, log: Path, env: dict, workers=2, threads=4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--no-control-socket", "--graceful-timeout", "5",
             "dashboard.app:server"],
            cwd=REPO, env={**os.environ, **env}, stdout=self._out, stderr=subprocess.STDOUT)
        self.seen_workers = set()
        wait_for_port(self.port, timeout=30)
        self.wait_workers(workers)

    def workers(self) -> list[int]:
        pids = _children(self.proc.pid)
        self.seen_workers.update(pids)
        return pids

    def wait_workers(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.workers()) < n:
            assert time.monotonic() < deadline, "gunicorn workers did not start"
            time.sleep(0.05)
        for _ in range(4):  # answering: the app is imported
            requests.get(self.url + "/_dash-layout", timeout=10).raise_for_status()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for pid in self.seen_workers:  # workers exit with their master; make sure
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._out.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


class RedisProcess:
    """A redis-server this test owns (it may kill, pause and restart it on the same port)."""

    def __init__(self, directory: Path, port: int | None = None):
        self.exe = shutil.which("redis-server")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = directory
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=5)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
