"""Many users at once: N browser sessions training at the same time against
`gunicorn -w 2 dashboard.app:server` with its sessions in Redis.

    python bench/load.py                     # 10, 30, 60, 100 sessions, 10 s each
    python bench/load.py --quick             # 10 and 60 sessions, 4 s each
    python bench/load.py --sessions 30 --seconds 20 --json

Starts its own redis-server and gunicorn on free 127.0.0.1 ports and stops both at the end.
Each simulated session is one thread with one HTTP connection doing what a tab does: it
loads the page (GET / for the page's endId, /_dash-layout for its session id and control
values; /_dash-dependencies, the callbacks, is read once), fires the page-load callback,
presses Train
(the toggle callback, then the tick on the pulse), and then ticks: POST
/_dash-update-component with the payload Dash's renderer sends for the `dcc.Interval` tick
(output, outputs, inputs, changedPropIds, parsedChangedPropsIds, state), the page's
client record taken from the previous answer. It ticks again as soon as it is answered
(`--think` adds a pause, as the page's Interval does), until the time is up or its run
ends. Then every session presses Pause, and the iteration the server reports must equal
(ticks answered) x (iterations per tick), with exactly one curve point per display step
received: 0 lost, 0 doubled. Requests are bounded in number and time, loopback only.

Reports per N: ticks/s sustained (all sessions together), latency p50/p95/p99, errors,
lost/doubled steps, and CPU per tick of gunicorn, redis-server and this script (from
/proc: what the tick costs, whatever else loads the machine). The goal (>= 300 ticks/s with
p95 <= 100 ms, 0 errors, 0 lost) is printed next to the figures but never makes this script
fail. In a closed loop (no think time) the mean latency is N / throughput (Little's law):
p95 <= 100 ms at 60 sessions needs more than 600 ticks/s, at 100 more than 1000, i.e. under
~3 and ~2 ms of CPU per tick on 2 cores. --think paces each session as a page's Interval.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Processes,
    cpu_seconds,
    describe,
    free_port,
    machine,
    median,
    percentile,
    start_dashboard,
    start_redis,
    table,
)

from dashboard import ids  # noqa: E402
from dashboard.validation import SPEEDS  # noqa: E402

GOAL_TICKS = 300.0
GOAL_P95_MS = 100.0
SPEED = 50  # iterations per tick: the page's default speed
MAXIT = 20000  # the largest run, so that no session finishes during a measurement
REQUEST_TIMEOUT = 15.0  # seconds; a request slower than this counts as an error
_CONFIG = re.compile(r'<script id="_dash-config" type="application/json">(.*?)</script>', re.S)


# ------------------------------------------------------------------------- the page
class Page:
    """One browser tab, as the server sees it: builds the renderer's callback payloads."""

    def __init__(self, base: str, deps: list):
        url = urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT)
        self.tick_cb = _callback(deps, ids.INTERVAL_TICK, "n_intervals")
        self.toggle_cb = _callback(deps, ids.BUTTON_TRAIN, "n_clicks")
        config = json.loads(_CONFIG.search(self.get("/").decode()).group(1))
        self.path = "/_dash-update-component"
        if config.get("end_id"):
            self.path += f"?endId={config['end_id']}"
        self.values = _props(json.loads(self.get("/_dash-layout")))
        # The controls a user set before the class started: default speed, longest run.
        self.values[(ids.SLIDER_SPEED, "value")] = SPEEDS.index(SPEED)
        self.values[(ids.SLIDER_MAXIT, "value")] = MAXIT

    def get(self, path: str) -> bytes:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        return body

    def payload(self, cb: dict, changed: list[str]) -> bytes:
        """What dash-renderer POSTs for callback `cb` with props `changed` just changed."""
        def with_value(dep):
            return {"id": dep["id"], "property": dep["property"],
                    "value": self.values.get((dep["id"], dep["property"]))}

        outputs = [dict(zip(("id", "property"), o.split(".", 1), strict=True))
                   for o in cb["output"].strip(".").split("...")]
        return json.dumps({
            "output": cb["output"], "outputs": outputs,
            "inputs": [with_value(d) for d in cb["inputs"]],
            "changedPropIds": changed, "parsedChangedPropsIds": changed,
            "state": [with_value(d) for d in cb["state"]],
        }).encode()

    def post(self, cb: dict, changed: list[str]) -> tuple[int, dict | None]:
        """(HTTP status, the response's props by (id, property)) and the page updated."""
        body = self.payload(cb, changed)
        self.conn.request("POST", self.path, body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            return response.status, None
        props = {(cid, prop.split("@")[0]): value
                 for cid, by_prop in json.loads(data)["response"].items()
                 for prop, value in by_prop.items()}
        for key, value in props.items():
            if not (isinstance(value, dict) and "__dash_patch_update" in value):
                self.values[key] = value
        return 200, props

    def tick(self, changed: str) -> tuple[int, dict | None]:
        if changed == "tick":
            key = (ids.INTERVAL_TICK, "n_intervals")
            self.values[key] = (self.values.get(key) or 0) + 1
            return self.post(self.tick_cb, [f"{ids.INTERVAL_TICK}.n_intervals"])
        if changed == "pulse":
            return self.post(self.tick_cb, [f"{ids.STORE_PULSE}.data"])
        return self.post(self.tick_cb, [])  # the page-load call

    def press_train(self) -> tuple[int, dict | None]:
        key = (ids.BUTTON_TRAIN, "n_clicks")
        self.values[key] = (self.values.get(key) or 0) + 1
        status, _props = self.post(self.toggle_cb, [f"{ids.BUTTON_TRAIN}.n_clicks"])
        if status != 200:
            return status, None
        return self.tick("pulse")


def _callback(deps: list, cid: str, prop: str) -> dict:
    for cb in deps:
        if any(i["id"] == cid and i["property"] == prop for i in cb["inputs"]):
            return cb
    raise RuntimeError(f"no callback takes {cid}.{prop}")


def _props(layout) -> dict:
    """(id, property) -> value for every component with an id in the layout."""
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


def _extended_steps(props: dict) -> list:
    """The x values (steps) the response appends to the Loss curve."""
    patch = props.get((ids.GRAPH_CURVES, "figure"))
    if not isinstance(patch, dict) or "operations" not in patch:
        return []
    return [x for op in patch["operations"] if op["operation"] == "Extend"
            and op["location"] == ["data", 0, "x"] for x in op["params"]["value"]]


# ---------------------------------------------------------------------------- a session
class Session(threading.Thread):
    def __init__(self, base, deps, start, stop_at, think, max_ticks):
        super().__init__(daemon=True)
        self.base, self.deps, self.start_event = base, deps, start
        self.stop_at, self.think, self.max_ticks = stop_at, think, max_ticks
        self.latencies, self.errors, self.busy, self.ok, self.answered = [], [], 0, 0, []
        self.steps, self.ready, self.final_iteration, self.done = [], False, None, False
        self.setup_error = None

    def run(self):
        try:
            self.page = Page(self.base, self.deps)
            status, props = self.page.tick("load")
            if status == 200:
                status, props = self.page.press_train()  # the first `speed` iterations
            if status != 200 or props.get((ids.DIV_STATUS, "data-state")) != "running":
                raise RuntimeError(f"could not start training (HTTP {status})")
            self.ok, self.steps = 1, _extended_steps(props)
        except Exception as exc:  # reported, never raised from a thread
            self.setup_error = f"{type(exc).__name__}: {exc}"
        self.ready = True
        self.start_event.wait()
        if self.setup_error:
            return
        while time.perf_counter() < self.stop_at[0] and self.ok < self.max_ticks:
            t0 = time.perf_counter()
            try:
                status, props = self.page.tick("tick")
            except (OSError, http.client.HTTPException) as exc:  # reconnects on the next
                self.errors.append(type(exc).__name__)
                self.page.conn.close()
                continue
            except Exception as exc:  # e.g. a 200 whose body is not Dash's: stop this one
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                break
            now = time.perf_counter()
            self.latencies.append(now - t0)
            if status == 204:  # "no update": the session was busy; the page retries
                self.busy += 1
            elif status != 200:
                self.errors.append(f"HTTP {status}")
            else:
                self.ok += 1
                self.answered.append(now)
                self.steps.extend(_extended_steps(props))
                if props.get((ids.DIV_STATUS, "data-state")) != "running":
                    break
            if self.think:
                time.sleep(self.think)
        self.done = True

    def pause_and_read(self) -> None:
        """Pause (Train again) and read the iteration the server reports."""
        if self.setup_error:
            return
        try:
            status, props = self.page.press_train()
            if status == 200:
                self.final_iteration = props.get((ids.DIV_STATUS, "data-iteration"))
                self.steps.extend(_extended_steps(props))
        except Exception as exc:
            self.errors.append(f"final read: {type(exc).__name__}")
        finally:
            self.page.conn.close()


def run_level(base: str, sessions: int, seconds: float, think: float, server_pid: int,
              redis_pid: int) -> dict:
    deps = json.loads(_get(base, "/_dash-dependencies"))
    start, stop_at = threading.Event(), [float("inf")]
    max_ticks = MAXIT // SPEED - 1
    threads = [Session(base, deps, start, stop_at, think, max_ticks) for _ in range(sessions)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while not all(t.ready for t in threads) and time.monotonic() < deadline:
        time.sleep(0.05)
    cpu0 = (cpu_seconds(server_pid), cpu_seconds(redis_pid), time.process_time())
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start.set()
    for t in threads:
        t.join(timeout=seconds + 2 * REQUEST_TIMEOUT + 5)
    cpu1 = (cpu_seconds(server_pid), cpu_seconds(redis_pid), time.process_time())
    for t in threads:
        t.pause_and_read()
    latencies = [x for t in threads for x in t.latencies]
    # sustained: ticks answered within the window (in-flight ones finish after it)
    ticks = sum(1 for t in threads for done in t.answered if done <= stop_at[0])
    # few sessions can run out of ticks (max_ticks each) before the window ends: then the
    # rate is over the time until the last answer, not over the whole window
    window = seconds
    if all(t.ok >= max_ticks for t in threads) and ticks:
        window = min(seconds, max(done for t in threads for done in t.answered) - t0)
    answered = sum(len(t.answered) for t in threads)
    errors = sum(len(t.errors) for t in threads) + sum(bool(t.setup_error) for t in threads)
    lost = doubled = 0
    bad_points = 0
    for t in threads:
        if t.setup_error or t.final_iteration is None:
            continue
        expected = t.ok * SPEED
        lost += max(0, expected - t.final_iteration)
        doubled += max(0, t.final_iteration - expected)
        bad_points += t.steps != list(range(SPEED, t.final_iteration + 1, SPEED))
    notes = sorted({t.setup_error for t in threads if t.setup_error}
                   | {e for t in threads for e in t.errors})
    p95 = percentile(latencies, 95) * 1e3
    unchecked = sum(t.final_iteration is None for t in threads)
    return {
        "sessions": sessions, "seconds": round(window, 2), "ticks": ticks,
        "ticks_per_s": round(ticks / window, 1),
        "p50_ms": round(median(latencies) * 1e3, 1), "p95_ms": round(p95, 1),
        "p99_ms": round(percentile(latencies, 99) * 1e3, 1),
        "busy_204": sum(t.busy for t in threads), "errors": errors,
        # CPU per tick answered: gunicorn (master + workers), redis-server, this script.
        "cpu_ms_per_tick": {name: round((b - a) * 1e3 / max(1, answered), 2) for name, a, b in
                            zip(("server", "redis", "client"), cpu0, cpu1, strict=True)},
        "lost_steps": lost, "doubled_steps": doubled,
        "sessions_with_wrong_points": bad_points,
        "unchecked_sessions": unchecked,
        "goal_met": (ticks / window >= GOAL_TICKS and p95 <= GOAL_P95_MS and errors == 0
                     and lost == doubled == bad_points == unchecked == 0),
        "notes": notes[:5],
    }


def _get(base: str, path: str) -> bytes:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=None,
                        help="concurrent sessions per level (default 10 30 60 100)")
    parser.add_argument("--seconds", type=float, default=None, help="per level (default 10)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="ms each session waits after an answer (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--gunicorn-args", default="",
                        help='more gunicorn options, e.g. "--threads 4"')
    parser.add_argument("--quick", action="store_true", help="10 and 60 sessions, 4 s each")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    levels = args.sessions or ([10, 60] if args.quick else [10, 30, 60, 100])
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    if not all(1 <= n <= 500 for n in levels) or not 0.5 <= seconds <= 120:
        parser.error("sessions must be 1..500 and seconds 0.5..120")
    sys.setswitchinterval(0.0005)  # hand the GIL over promptly: 100 threads wait on sockets

    before = machine()
    results = []
    with Processes() as procs:
        redis_url = start_redis(procs)
        base = start_dashboard(procs, free_port(), redis_url, workers=args.workers,
                               gunicorn_args=tuple(shlex.split(args.gunicorn_args)))
        redis_pid, server_pid = (p.pid for p in procs.started)
        for n in levels:
            results.append(run_level(base, n, seconds, args.think / 1000, server_pid,
                                     redis_pid))
    after = machine()
    server = (f"gunicorn -w {args.workers} {args.gunicorn_args} dashboard.app:server, "
              "sessions in redis-server").replace("  ", " ")
    report = {"machine": before, "load_after": after["load"], "server": server,
              "speed": SPEED, "think_ms": args.think, "goal": {
                  "ticks_per_s": GOAL_TICKS, "p95_ms": GOAL_P95_MS}, "levels": results}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"Load: {server}; {SPEED} iterations per tick, think {args.think:g} ms; "
          f"{seconds:g} s per level")
    print(describe(before) + f" (after: {after['load'][0]:.2f})")
    rows = [[str(r["sessions"]), r["ticks_per_s"], r["p50_ms"], r["p95_ms"], r["p99_ms"],
             r["errors"], r["busy_204"], r["lost_steps"], r["doubled_steps"],
             r["sessions_with_wrong_points"],
             "{server:.2f} / {redis:.2f} / {client:.2f}".format(**r["cpu_ms_per_tick"]),
             "met" if r["goal_met"] else "missed"]
            for r in results]
    print(table(["sessions", "ticks/s", "p50 ms", "p95 ms", "p99 ms", "errors", "busy",
                 "lost", "doubled", "bad curves", "CPU ms/tick srv/redis/client", "goal"],
                rows))
    print(f"goal: >= {GOAL_TICKS:g} ticks/s with p95 <= {GOAL_P95_MS:g} ms, 0 errors, "
          "0 lost or doubled steps")
    for r in results:
        for note in r["notes"]:
            print(f"  {r['sessions']} sessions: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
