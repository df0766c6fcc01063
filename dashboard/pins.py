"""Pinned runs: a run's curves and final numbers, kept beside the live run (Compare tab).

    pin = make_pin(trainer, state, number)     # a plain JSON-safe dict
    text = pins_to_json(pins)                  # what the session store keeps
    pins = pins_from_json(text)                # checked data: [] for anything malformed

A pin keeps what the runs table and the faded curves need: its settings and label, the final
loss, accuracy, iterations and state, and the loss and test-accuracy curves thinned to at most
PIN_POINTS points each (first and last kept). The pins live in the session store beside the
run (`store.get_pins` / `store.put_pins`), never in the run's per-tick meta: the tick reads
them only when it sends a whole curves figure (a new run), so they survive Reset and new
settings and cost an update nothing. At most LIMITS.max_pins per session.
"""

from __future__ import annotations

import json
import math

from .figures import CURVE_DIGITS, format_number, rounded, rounded_list
from .limits import LIMITS

PIN_POINTS = 300  # points kept per pinned curve (a curve may have up to 20,000)
MAX_PINS_TEXT = 256 * 1024  # bytes of stored pins read back (5 pins of 300 points: ~40 kB)
STATES = ("ready", "running", "paused", "abstol", "maxit", "diverged")
_SETTINGS = ("hidden", "activation", "lr", "reg", "maxit", "seed", "display", "data")
_KEYS = {"n", "label", "visible", "settings", "loss", "accuracy", "iterations", "state",
         "steps", "loss_curve", "acc_curve"}


def _thin(n: int, keep: int = PIN_POINTS) -> list[int]:
    """Indices of at most `keep` of n points, evenly spread, first and last included."""
    if n <= keep:
        return list(range(n))
    return sorted({round(i * (n - 1) / (keep - 1)) for i in range(keep)})


def run_settings(trainer) -> dict:
    """The settings a runs-table row shows (JSON-safe)."""
    c = trainer.config
    return {"hidden": list(c.hidden), "activation": c.activation, "lr": c.lr, "reg": c.reg,
            "maxit": c.maxit, "seed": c.seed, "display": c.display,
            "data": str(trainer.dataset.name)}


def settings_words(settings: dict) -> str:
    """"lr 0.1, reg 0.001" plus whatever differs from the document's run (hidden 8×2, tanh,
    seed 3, max 5000, the data set's name)."""
    words = [f"lr {format_number(settings['lr'])}", f"reg {format_number(settings['reg'])}"]
    hidden = settings["hidden"]
    if hidden != [6]:
        words.append(f"hidden {hidden[0]}" + (f"×{len(hidden)}" if len(hidden) > 1 else ""))
    if settings["activation"] != "relu":
        words.append(settings["activation"])
    if settings["seed"] != 1:
        words.append(f"seed {settings['seed']}")
    if settings["maxit"] != 3000:
        words.append(f"max {settings['maxit']}")
    if settings["data"] != "iris":
        words.append(settings["data"][:24])
    return ", ".join(words)


def run_row(trainer, state: str) -> dict:
    """The numbers of a run as the runs table shows them (the status line's: the last
    history point's loss and test accuracy)."""
    h = trainer.history
    last = h.since(len(h) - 1) if len(h) else {}
    loss = last.get("loss", [None])[0]
    acc = last.get("test_acc", [None])[0]
    return {"settings": run_settings(trainer),
            "loss": None if loss is None else rounded(loss, CURVE_DIGITS),
            "accuracy": None if acc is None else rounded(acc, CURVE_DIGITS),
            "iterations": int(trainer.iteration), "state": state}


def make_pin(trainer, state: str, number: int) -> dict:
    """Pin number `number` of the run in `trainer` (its curves thinned to PIN_POINTS)."""
    h = trainer.history.since(0)
    keep = _thin(len(h["step"]))
    row = run_row(trainer, state)
    return {"n": int(number), "label": f"pin {number}: {settings_words(row['settings'])}",
            "visible": True, **row,
            "steps": [int(h["step"][i]) for i in keep],
            "loss_curve": rounded_list([h["loss"][i] for i in keep], CURVE_DIGITS),
            "acc_curve": rounded_list([h["test_acc"][i] for i in keep], CURVE_DIGITS)}


def pins_to_json(pins: list[dict]) -> str:
    return json.dumps(pins, allow_nan=False, separators=(",", ":"))


def _number(v) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool)
                         and math.isfinite(v))


def _valid_pin(p) -> bool:
    if not isinstance(p, dict) or set(p) != _KEYS:
        return False
    s = p["settings"]
    curves = (p["steps"], p["loss_curve"], p["acc_curve"])
    return (isinstance(p["n"], int) and 0 < p["n"] < 10**6 and isinstance(p["label"], str)
            and len(p["label"]) < 200 and isinstance(p["visible"], bool)
            and isinstance(s, dict) and set(s) == set(_SETTINGS)
            and _number(p["loss"]) and _number(p["accuracy"])
            and isinstance(p["iterations"], int) and p["state"] in STATES
            and all(isinstance(c, list) and len(c) == len(p["steps"]) <= PIN_POINTS
                    for c in curves)
            and all(_number(v) for c in curves for v in c))


def pins_from_json(text) -> list[dict]:
    """The stored pins, checked (data, never code); [] for None or anything malformed."""
    if not isinstance(text, str) or len(text) > MAX_PINS_TEXT:
        return []
    try:
        pins = json.loads(text, parse_constant=lambda _c: None)
    except (ValueError, RecursionError):
        return []
    if not isinstance(pins, list) or len(pins) > LIMITS.max_pins \
            or not all(_valid_pin(p) for p in pins):
        return []
    return pins


def saved_pins(store, sid: str) -> list[dict]:
    """The pins stored for session `sid` ([] if none, or for a store without pins)."""
    get = getattr(store, "get_pins", None)
    return [] if get is None else pins_from_json(get(sid))
