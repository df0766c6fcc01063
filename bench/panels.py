"""Server time and payload of the issue-7 panels (Inside the math, Decision boundary,
Training health), each callback posted as the browser posts it, in this process (Flask's
test client, the memory store, no network).

    python bench/panels.py            # readable table
    python bench/panels.py --json     # one JSON object
    python bench/panels.py --quick    # fewer repeats

Cases: the document's run (iris, H=6) paused at iteration 300, and a wide one (a CSV-like
set of 2,000 x 50 features, 10 classes, H=32, 2 layers). Per callback: "first" draws the
panel anew (a new run or view), "live" is what a training update sends (the numbers, a
Patch); server time is the response's Server-Timing (dashboard/timing.py), the median of
the repeats; bytes are the response body. The gradient check runs on demand only. A hidden
panel costs no request at all (throttle.live_gate). Figures never make this script fail.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import describe, machine, table  # noqa: E402

import dashboard.app  # noqa: E402,F401  (imports the panels in order)
from dashboard import ids  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.panels import boundary, health, inspector  # noqa: E402
from dashboard.sessions import MemoryStore  # noqa: E402
from mlpcore import Config, Dataset, Trainer  # noqa: E402

SID = "0123456789abcdef0123456789abcdef"
TIMING = re.compile(r'app;dur=([\d.]+)')


def wide_dataset(N=2000, D=50, K=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = np.argmax(X @ rng.normal(size=(D, K)), axis=1)
    half = N // 2
    return Dataset(name="wide", X_train=X[:half], y_train=y[:half], X_test=X[half:],
                   y_test=y[half:], feature_names=[f"x{i}" for i in range(D)],
                   class_names=[f"class {k}" for k in range(K)])


CASES = {
    "document (iris, H=6)": (Config.document(), None),
    "wide (1000x50, K=10, H=32x2)": (Config.document().replace(hidden=(32, 32)), wide_dataset),
}


def specs(app) -> dict:
    out = {}
    for key, spec in app.callback_map.items():
        if "callback" in spec:
            out[spec["callback"].__name__.lstrip("_")] = (key, spec)
    return out


def body(spec_pair, values: dict, changed: str) -> dict:
    key, spec = spec_pair
    outs = [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
            for o in key[2:-2].split("...")]

    def deps(items):
        return [{"id": d["id"], "property": d["property"], "value": values.get(d["id"])}
                for d in items]

    return {"output": key, "outputs": outs, "inputs": deps(spec["inputs"]),
            "state": deps(spec["state"]), "changedPropIds": [changed]}


def post(http, spec_pair, values, changed):
    r = http.post("/_dash-update-component", json=body(spec_pair, values, changed))
    ms = float(TIMING.search(r.headers.get("Server-Timing", "app;dur=nan")).group(1))
    return r.status_code, ms, len(r.data), (r.get_json() if r.status_code == 200 else None)


def measure(name, config, data, repeats) -> list[dict]:
    store = MemoryStore()
    with store.session(SID, lambda: Trainer(config, data() if data else None)) as s:
        s.trainer.step(300)
        run = s.meta["run"]
    app = create_app(store)
    http = app.server.test_client()
    sp = specs(app)
    record = {"run": run, "n": 6, "it": 300}  # the page's run record, as the gates pass it
    values = {ids.STORE_SESSION: SID, ids.STORE_CLIENT: record, inspector.STORE_LIVE: record,
              boundary.STORE_LIVE: record, health.STORE_LIVE: record,
              inspector.INPUT_ROW: 2, inspector.RADIO_MODE: "sample", inspector.STORE_PICK: {}}
    rows = []

    def one(label, cb, tab, shown_id, extra=None, step=0):
        v = {**values, ids.TABS_PANELS: tab, **(extra or {})}
        firsts, lives, first_bytes, live_bytes = [], [], 0, 0
        for _ in range(repeats):
            v[shown_id] = None  # nothing shown: draw anew
            code, ms, size, resp = post(http, sp[cb], v, f"{ids.TABS_PANELS}.value")
            firsts.append(ms)
            first_bytes = size
            shown = resp["response"][shown_id]["data"]
            with store.session(SID, lambda: None) as s:
                s.trainer.step(step or 10)
            code, ms, size, _ = post(http, sp[cb], {**v, shown_id: shown},
                                     f"{sp[cb][1]['inputs'][0]['id']}.data")
            assert code == 200, (cb, code)
            lives.append(ms)
            live_bytes = size
        rows.append({"case": name, "panel": label, "first_ms": statistics.median(firsts),
                     "first_bytes": first_bytes, "live_ms": statistics.median(lives),
                     "live_bytes": live_bytes})

    one("inspector, one sample", "inspector_update", inspector.TAB, inspector.STORE_SHOWN)
    one("inspector, batch", "inspector_update", inspector.TAB, inspector.STORE_SHOWN,
        {inspector.RADIO_MODE: "batch"})
    one("decision boundary", "boundary_update", boundary.TAB, boundary.STORE_SHOWN)
    one("training health", "health_update", health.TAB, health.STORE_SHOWN, step=50)
    grads = []
    for _ in range(max(1, repeats // 3)):
        code, ms, size, _ = post(http, sp["inspector_gradcheck"], values,
                                 f"{inspector.BUTTON_GRADCHECK}.n_clicks")
        grads.append(ms)
    rows.append({"case": name, "panel": "gradient check (on demand)",
                 "first_ms": statistics.median(grads), "first_bytes": size, "live_ms": None,
                 "live_bytes": None})

    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    rows = [r for name, (config, data) in CASES.items()
            for r in measure(name, config, data, repeats)]
    if args.json:
        print(json.dumps({"machine": machine(), "repeats": repeats, "rows": rows}))
        return
    print(describe(machine()))
    print(table(["case", "panel", "first: ms", "first: bytes", "live: ms", "live: bytes"],
                [[r["case"], r["panel"], f"{r['first_ms']:.1f}", f"{r['first_bytes']:,}",
                  "—" if r["live_ms"] is None else f"{r['live_ms']:.1f}",
                  "—" if r["live_bytes"] is None else f"{r['live_bytes']:,}"] for r in rows]))


if __name__ == "__main__":
    main()
