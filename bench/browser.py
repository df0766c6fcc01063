"""The lab as a user sees it: the document's run in headless Chromium, timed in the page.

    python bench/browser.py                  # 3 repeats, 15 click samples each
    python bench/browser.py --quick          # 1 repeat, 5 click samples
    python bench/browser.py --json           # one JSON object
    python bench/browser.py --server gunicorn-redis   # gunicorn -w 2 + redis-server

Starts the app (`python -m dashboard`, or gunicorn -w 2 with a throwaway redis-server) on a
free 127.0.0.1 port and drives it in headless Chromium through Selenium, as the tests do.
For each repeat, on a fresh page: Document settings -> speed (top, then the default) ->
Train -> wait for the end of the 3000-iteration run; then, on the same page, Reset -> Train
-> first update -> Pause, again and again, for click latency.

Measured in the page (a script added before the app loads):
- updates shown: Plotly's `plotly_afterplot` event on the curves graph each time it draws
  more points than before; updates/s = (frames - 1) / (last frame - first frame);
- click -> first update: the click event's time to the first such frame;
- Train -> final frame: the click to the last frame any of the three figures draws;
- bytes per tick response and server time per tick: the browser's Resource Timing entries
  for /_dash-update-component answered by the tick (`advance`, named in the Server-Timing
  header the app sends), encodedBodySize and serverTiming;
- lost points: at the end the curves hold exactly the 60 steps 50, 100, ..., 3000 with the
  values mlpcore computes (rounded as sent), and every frame had more points than the last.
Goals are printed next to the figures; they never make this script fail.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Processes,
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
from dashboard.figures import CURVE_DIGITS, rounded  # noqa: E402
from mlpcore import Config, Trainer  # noqa: E402

GOALS = {"updates_per_s": 12.0, "tick_bytes": 2048, "click_p95_ms": 150.0, "final_s": 2.0}
RUN_TIMEOUT = 60.0
GRAPHS = (ids.GRAPH_CURVES, ids.GRAPH_CONFUSION, ids.GRAPH_WEIGHTS)

# Runs before any of the page's own scripts (CDP Page.addScriptToEvaluateOnNewDocument).
INSTRUMENT = """
window.__bench = {frames: [], clicks: [], hooked: 0, bodies: []};
performance.setResourceTimingBufferSize(100000);
const __fetch = window.fetch;  // to weigh the figures' part of each tick response
window.fetch = function (url, init) {
  const answer = __fetch.apply(this, arguments);
  if (String(url).includes('_dash-update-component')) {
    answer.then(r => r.clone().text()).then(text => {
      const props = JSON.parse(text).response || {};
      const size = k => props[k] ? JSON.stringify(props[k]).length : 0;
      window.__bench.bodies.push({bytes: text.length, tick: 'client-store' in props,
        figures: size('curves-graph') + size('confusion-graph') + size('weights-graph')});
    }).catch(() => {});  // 204 "no update": no body
  }
  return answer;
};
document.addEventListener('click', (e) => {
  const b = e.target.closest && e.target.closest('button');
  if (b) { window.__bench.clicks.push({id: b.id, t: performance.now()}); }
}, true);
const __graphs = GRAPH_IDS;
const __hook = setInterval(() => {
  for (const id of __graphs) {
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!gd || !gd.on || gd.__benchHooked) { continue; }
    gd.__benchHooked = true;
    window.__bench.hooked += 1;
    gd.on('plotly_afterplot', () => {
      const d = gd.data && gd.data[0];
      window.__bench.frames.push({g: id, t: performance.now(),
                                  n: d && d.x ? d.x.length : 0});
    });
  }
  if (window.__bench.hooked === __graphs.length) { clearInterval(__hook); }
}, 20);
""".replace("GRAPH_IDS", json.dumps(GRAPHS))

COLLECT = """
const ticks = performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component'))
  .map(e => ({start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize,
              timing: (e.serverTiming || []).map(s => [s.name, s.duration, s.description])}));
const plot = document.querySelector('#curves-graph .js-plotly-plot');
return {frames: window.__bench.frames, clicks: window.__bench.clicks, requests: ticks,
        bodies: window.__bench.bodies.filter(b => b.tick),
        x: Array.from(plot.data[0].x), loss: Array.from(plot.data[0].y),
        acc: Array.from(plot.data[1].y)};
"""


# ----------------------------------------------------------------------------- browser
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=shutil.which("chromedriver")))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
    return driver


def until(predicate, timeout: float, what: str, poll: float = 0.1):
    """Poll `predicate` until it is truthy. Every poll is a WebDriver command that runs on
    the page's main thread, so poll gently: the times measured are taken in the page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


class Lab:
    """The page, through Selenium."""

    def __init__(self, driver, url: str):
        self.driver, self.url = driver, url

    def open(self):
        self.driver.get(self.url)
        until(lambda: self.js("return window.__bench && window.__bench.hooked") == 3, 30,
              "the three figures")
        until(lambda: self.status()[0] == "ready", 10, "the first render")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def status(self):
        """(data-state, data-iteration, text) of the status element, in one command."""
        state, iteration, text = self.js(
            "const s = document.getElementById(arguments[0]); return [s.dataset.state, "
            "s.dataset.iteration, s.innerText];", ids.DIV_STATUS)
        return state, int(iteration or 0), text

    def press(self, button_id):
        self.driver.find_element("id", button_id).click()

    def wait_state(self, states, timeout=RUN_TIMEOUT, iteration=None):
        def ok():
            state, it, _ = self.status()
            return state in states and (iteration is None or it == iteration)
        until(ok, timeout, f"state {states}")

    def clear(self):
        self.js("window.__bench.frames = []; window.__bench.clicks = [];"
                "window.__bench.bodies = []; performance.clearResourceTimings();")

    def frames(self, graph=ids.GRAPH_CURVES):
        return [f for f in self.js("return window.__bench.frames") if f["g"] == graph]

    def top_speed(self):
        from selenium.webdriver.common.keys import Keys

        self.driver.find_element("css selector", f"#{ids.SLIDER_SPEED} [role=slider]") \
            .send_keys(Keys.END)
        until(lambda: self.driver.find_element("id", ids.TEXT_SPEED).text
              == "as fast as possible", 10, "the speed read-out")

    def document_settings(self):
        self.press(ids.BUTTON_DOCUMENT)
        until(lambda: "document's run" in self.status()[2], 10, "the document's settings")
        self.wait_state(("ready",), 10, iteration=0)
        until(lambda: self.js("const p = document.querySelector('#curves-graph "
                              ".js-plotly-plot'); return p.data[0].x.length === 0"), 10,
              "empty curves")


# ------------------------------------------------------------------------ measurements
def reference():
    t = Trainer(Config.document())
    t.step(3000)
    h = t.history.since(0)
    return ([int(s) for s in h["step"]], [rounded(v, CURVE_DIGITS) for v in h["loss"]],
            [rounded(v, CURVE_DIGITS) for v in h["test_acc"]])


def document_run(lab: Lab, top: bool, expected) -> dict:
    """Document settings -> (top speed) -> Train -> the end. Figures for this one run."""
    lab.open()
    if top:
        lab.top_speed()
    lab.document_settings()
    time.sleep(0.3)  # let the last render settle before the clock starts
    lab.clear()
    lab.press(ids.BUTTON_TRAIN)
    lab.wait_state(("maxit", "abstol", "diverged"))
    until(lambda: any(f["n"] == len(expected[0]) for f in lab.frames()), 5, "the last points")
    time.sleep(0.5)  # any render still queued
    data = lab.js(COLLECT)
    click = next(c["t"] for c in data["clicks"] if c["id"] == ids.BUTTON_TRAIN)
    after = [f for f in data["frames"] if f["t"] >= click]
    curves = [f for f in after if f["g"] == ids.GRAPH_CURVES]
    shown, last_n, monotonic = [], 0, True
    for f in curves:
        if f["n"] > last_n:
            shown.append(f)
        elif f["n"] < last_n:
            monotonic = False
        last_n = max(last_n, f["n"])
    span = (shown[-1]["t"] - shown[0]["t"]) / 1000 if len(shown) > 1 else 0.0
    ticks = [r for r in data["requests"] if any(d == "advance" for _n, _d, d in r["timing"])]
    state, iteration, _text = lab.status()
    return {
        "state": state, "iteration": iteration,
        "frames": len(shown),
        "updates_per_s": round((len(shown) - 1) / span, 1) if span > 0 else None,
        "click_ms": round(shown[0]["t"] - click, 1) if shown else None,
        "final_s": round((max(f["t"] for f in after) - click) / 1000, 3),
        "points": len(data["x"]),
        "points_ok": (data["x"], data["loss"], data["acc"]) == tuple(expected) and monotonic,
        "tick_requests": len(ticks),
        "tick_bytes_mean": round(sum(r["bytes"] for r in ticks) / max(1, len(ticks))),
        "tick_bytes_max": max((r["bytes"] for r in ticks), default=None),
        "figure_bytes_max": max((b["figures"] for b in data["bodies"]), default=None),
        "server_ms_median": round(median([r["timing"][0][1] for r in ticks]), 2),
        "server_ms_p95": round(percentile([r["timing"][0][1] for r in ticks], 95), 2),
        "round_trip_ms_median": round(median([r["end"] - r["start"] for r in ticks]), 1),
    }


def click_latencies(lab: Lab, samples: int) -> list[float]:
    """Reset -> Train -> first new point on the curves -> Pause, `samples` times (ms)."""
    out = []
    for _ in range(samples):
        lab.press(ids.BUTTON_RESET)
        lab.wait_state(("ready",), 10, iteration=0)
        until(lambda: lab.frames() and lab.frames()[-1]["n"] == 0, 10, "empty curves")
        time.sleep(0.15)
        lab.clear()
        lab.press(ids.BUTTON_TRAIN)
        first = until(lambda: next((f for f in lab.frames() if f["n"] > 0), None), 10,
                      "the first update")
        clicks = lab.js("return window.__bench.clicks")
        out.append(round(first["t"] - clicks[0]["t"], 1))
        lab.press(ids.BUTTON_TRAIN)  # Pause
        lab.wait_state(("paused", "maxit"), 10)
    return out


def summarise(runs: list[dict]) -> dict:
    """Median over repeats of each number; booleans must hold in every repeat."""
    out = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if all(isinstance(v, bool) for v in values):
            out[key] = all(values)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = round(median(values), 3)
        else:
            out[key] = values[-1]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=None, help="repeats (default 3)")
    parser.add_argument("--clicks", type=int, default=None,
                        help="click-latency samples per repeat (default 15)")
    parser.add_argument("--server", choices=("dev", "gunicorn-redis"), default="dev",
                        help="python -m dashboard (default), or gunicorn -w 2 + redis-server")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 5 click samples")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    samples = args.clicks if args.clicks is not None else (5 if args.quick else 15)
    if not (1 <= repeat <= 20 and 0 <= samples <= 200):
        parser.error("--repeat must be 1..20 and --clicks 0..200")

    expected = reference()
    before = machine()
    runs = {"top": [], "default": []}
    clicks: list[float] = []
    with Processes() as procs:
        if args.server == "dev":
            url = start_dashboard(procs, free_port())
            server = "python -m dashboard (one process, sessions in memory)"
        else:
            redis_url = start_redis(procs)  # first: its port is taken before ours is chosen
            url = start_dashboard(procs, free_port(), redis_url, workers=2)
            server = "gunicorn -w 2 dashboard.app:server, sessions in redis-server"
        driver = chromium()
        try:
            lab = Lab(driver, url)
            for _ in range(repeat):
                for name in ("top", "default"):
                    runs[name].append(document_run(lab, name == "top", expected))
                    clicks.append(runs[name][-1]["click_ms"])
                clicks.extend(click_latencies(lab, samples))
            console = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        finally:
            driver.quit()
    after = machine()
    result = {name: summarise(r) for name, r in runs.items()}
    click_summary = {"samples": len(clicks), "p50_ms": round(median(clicks), 1),
                     "p95_ms": round(percentile(clicks, 95), 1)}
    top, default = result["top"], result["default"]
    verdicts = [  # (goal, measured, met)
        (f">= {GOALS['updates_per_s']:g} updates/s, 0 lost points (default speed)",
         f"{default['updates_per_s']} /s, {'0' if default['points_ok'] else 'LOST'}",
         (default["updates_per_s"] or 0) >= GOALS["updates_per_s"] and default["points_ok"]
         and top["points_ok"]),
        (f"<= {GOALS['tick_bytes']} bytes per tick: curves + confusion + weights",
         f"{default['figure_bytes_max']:.0f} max (whole response: mean "
         f"{default['tick_bytes_mean']:.0f}, max {default['tick_bytes_max']:.0f})",
         default["figure_bytes_max"] <= GOALS["tick_bytes"]),
        (f"click -> first update p95 <= {GOALS['click_p95_ms']:g} ms",
         f"{click_summary['p95_ms']:.0f} ms (p50 {click_summary['p50_ms']:.0f})",
         click_summary["p95_ms"] <= GOALS["click_p95_ms"]),
        (f"Train -> final frame <= {GOALS['final_s']:g} s at top speed",
         f"{top['final_s']:.2f} s", top["final_s"] <= GOALS["final_s"]),
    ]
    report = {"machine": before, "load_after": after["load"], "server": server,
              "repeats": repeat, "runs": result, "click_to_first_update": click_summary,
              "console_errors": len(console), "goals": GOALS,
              "met": {goal: met for goal, _measured, met in verdicts},
              "runs_per_repeat": runs}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"Browser: headless Chromium against {server}; median of {repeat} repeat(s)")
    print(describe(before) + f" (after: {after['load'][0]:.2f})")
    rows = []
    for name, label in (("top", "top speed"), ("default", "default (50/update)")):
        r = result[name]
        rows.append([label, r["updates_per_s"], r["frames"], r["click_ms"], r["final_s"],
                     f"{r['points']:.0f}", "0" if r["points_ok"] else "LOST/WRONG",
                     f"{r['tick_bytes_mean']:.0f} / {r['tick_bytes_max']:.0f}",
                     f"{r['figure_bytes_max']:.0f}",
                     f"{r['server_ms_median']:.2f} / {r['server_ms_p95']:.2f}",
                     r["round_trip_ms_median"]])
    print(table(["document run", "updates/s", "frames", "click→1st ms", "Train→final s",
                 "points", "lost", "tick bytes mean/max", "figures max", "server ms p50/p95",
                 "RTT ms"], rows))
    print(f"click → first update ({click_summary['samples']} clicks on Train): "
          f"p50 {click_summary['p50_ms']:.0f} ms, p95 {click_summary['p95_ms']:.0f} ms")
    print(f"console errors: {len(console)}\n")
    print(table(["goal", "measured", "met"],
                [[goal, measured, "met" if met else "MISSED"]
                 for goal, measured, met in verdicts]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
