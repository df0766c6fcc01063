"""The validation layer and the limits, property-tested (hypothesis, derandomised: the same
cases on every run, so CI is deterministic).

Every value a callback can receive is drawn from JSON-shaped junk (what a forged request can
carry: NaN, ±Infinity, huge and negative numbers, strings, lists, objects, null, booleans)
mixed with the controls' real values; the layer must answer with Settings or ControlError,
never anything else, and what it accepts must always make a run the core and the limits
accept.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import pytest
from _reliability import CAPTURED_TICK, callback_body, callback_specs
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dashboard import callbacks as cb
from dashboard import ids
from dashboard.app import create_app
from dashboard.limits import LIMITS, LimitError, Limits, limits_table
from dashboard.sessions import MemoryStore
from dashboard.validation import (
    ACTIVATION_NAMES,
    CURVE_OPTIONS,
    DISPLAY_RANGE,
    HIDDEN_RANGE,
    IRIS,
    LAYERS_RANGE,
    LR_VALUES,
    MAXIT_RANGE,
    REG_VALUES,
    SEED_RANGE,
    SPEEDS,
    ControlError,
    DataShape,
    RequestError,
    Settings,
    check_callback_request,
    check_data_shape,
    check_run,
    decode_upload,
    parameter_count,
    session_bytes,
    validate,
)
from mlpcore import Config, Trainer

README = Path(__file__).resolve().parent.parent / "README.md"
FIXED = settings(derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fixed(n: int):
    """The same n cases on every run (derandomised, no example database)."""
    return settings(FIXED, max_examples=n)

# --------------------------------------------------------------------------- strategies
ABSURD = st.sampled_from([
    10**9, 10**12, -1, -(10**9), 0, 1e12, 1e308, -1e308, 2**53 + 1, 2**63, 6.5, -0.0,
    math.nan, math.inf, -math.inf, True, False, None, "", "6", "0.01", "relu ", "NaN",
    "x" * 10_000, [], [1], {}, {"$gt": 0}, [None], ["train_acc"] * 7,
])
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=12)
hexes = st.text("0123456789abcdef", min_size=32, max_size=32)

# the real values of each control, so that valid settings are drawn often
REAL = {
    "hidden": st.integers(*HIDDEN_RANGE), "layers": st.integers(*LAYERS_RANGE),
    "lr": st.integers(0, len(LR_VALUES) - 1), "reg": st.integers(0, len(REG_VALUES) - 1),
    "maxit": st.integers(MAXIT_RANGE[0] // 100, MAXIT_RANGE[1] // 100).map(lambda k: 100 * k),
    "seed": st.integers(*SEED_RANGE), "display": st.integers(*DISPLAY_RANGE),
    "activation": st.sampled_from(ACTIVATION_NAMES), "speed": st.integers(0, len(SPEEDS) - 1),
    "curves": st.lists(st.sampled_from(CURVE_OPTIONS), max_size=2),
    "session": hexes,
    "client": st.fixed_dictionaries({"run": st.one_of(st.none(), hexes),
                                     "n": st.integers(0, 100), "it": st.integers(0, 3000)}),
}


def anything_for(key):
    return st.one_of(REAL[key], REAL[key], ABSURD, json_values)


raw_controls = st.fixed_dictionaries({}, optional={k: anything_for(k) for k in REAL})
run_keys = ("hidden", "layers", "lr", "reg", "maxit", "seed", "display", "activation")
full_run = st.fixed_dictionaries({k: anything_for(k) for k in run_keys})


# ----------------------------------------------------------------------------- validate
@fixed(400)
@given(raw_controls)
def test_validate_gives_settings_or_a_plain_control_error(raw):
    try:
        s = validate(raw)
    except ControlError as exc:
        message = str(exc)
        assert message and message[0].isupper() and message.endswith(".")
        assert "Traceback" not in message and len(message) < 300
        return
    assert isinstance(s, Settings)
    if "hidden" in raw:
        assert HIDDEN_RANGE[0] <= s.hidden <= HIDDEN_RANGE[1] and type(s.hidden) is int
    if "layers" in raw:
        assert LAYERS_RANGE[0] <= s.layers <= LAYERS_RANGE[1]
    if "lr" in raw:
        assert s.lr in LR_VALUES and math.isfinite(s.lr)
    if "reg" in raw:
        assert s.reg in REG_VALUES
    if "maxit" in raw:
        assert MAXIT_RANGE[0] <= s.maxit <= MAXIT_RANGE[1] and s.maxit % 100 == 0
    if "seed" in raw:
        assert SEED_RANGE[0] <= s.seed <= SEED_RANGE[1]
    if "display" in raw:
        assert DISPLAY_RANGE[0] <= s.display <= DISPLAY_RANGE[1]
    if "activation" in raw:
        assert s.activation in ACTIVATION_NAMES
    if "speed" in raw:
        assert s.speed in {v or 0 for v in SPEEDS}
    if "curves" in raw:
        assert set(s.curves) <= set(CURVE_OPTIONS)
    if "session" in raw:
        assert len(s.session) == 32
    if "client" in raw:
        assert s.client_points >= 0 and s.client_iteration >= 0


@fixed(300)
@given(full_run)
def test_what_validation_accepts_the_core_and_the_limits_accept(raw):
    """Validated run controls always make a Config (never Config's own ValueError) that
    fits the limits: the checks are at least as strict as the core's and the caps."""
    try:
        s = validate(raw)
    except ControlError:
        return
    config = cb.config_from(s)  # raises if the limits refused it: they must not, here
    assert isinstance(config, Config)
    assert parameter_count(4, config.hidden, 3) <= LIMITS.max_parameters
    assert session_bytes(config) <= LIMITS.max_session_bytes


# ---------------------------------------------------------------------------- the limits
small_limits = st.builds(
    Limits, max_parameters=st.integers(10, 20_000),
    max_parameter_rows=st.integers(1000, 2_000_000),
    max_history_points=st.integers(10, 20_000),
    max_session_bytes=st.integers(64 * 1024, 4 << 20))
configs = st.builds(
    Config, hidden=st.lists(st.integers(1, 64), min_size=1, max_size=4),
    maxit=st.integers(1, 20_000), display=st.integers(1, 5000))


@fixed(300)
@given(configs, small_limits)
def test_check_run_refuses_exactly_what_exceeds_a_limit(config, limits):
    params = parameter_count(4, config.hidden, 3)
    over = (params > limits.max_parameters
            or params * IRIS.n_train > limits.max_parameter_rows
            or config.maxit // config.display > limits.max_history_points
            or session_bytes(config) > limits.max_session_bytes)
    try:
        assert check_run(config, IRIS, limits) is config
        assert not over
    except ControlError as exc:
        assert over, str(exc)
        assert "limit" in str(exc)


@fixed(25)
@given(hidden=st.lists(st.integers(1, 64), min_size=1, max_size=4),
       maxit=st.integers(1, 400), display=st.integers(1, 60), lr=st.sampled_from(LR_VALUES))
def test_session_bytes_bounds_the_serialised_run(hidden, maxit, display, lr):
    config = Config.document().replace(hidden=hidden, maxit=maxit, display=display, lr=lr)
    trainer = Trainer(config)
    trainer.step(maxit)
    assert len(trainer.to_bytes()) <= session_bytes(config)


def test_the_largest_run_the_sliders_allow_fits_the_limits():
    config = Config.document().replace(hidden=(HIDDEN_RANGE[1],) * LAYERS_RANGE[1],
                                       maxit=MAXIT_RANGE[1], display=1)
    assert check_run(config) is config
    assert parameter_count(4, config.hidden, 3) == 12_995


def test_check_run_messages_say_what_to_change():
    tight = Limits(max_parameters=100, max_history_points=100, max_session_bytes=64 * 1024)
    with pytest.raises(ControlError, match="would have 1,027 weights and biases; the limit is "
                                           "100. Use fewer hidden units or layers"):
        check_run(Config(hidden=(32, 24)), IRIS, tight)
    with pytest.raises(ControlError, match="makes 3,000 points; the limit is 100. Use a "
                                           "display interval of at least 30"):
        check_run(Config(hidden=(6,), maxit=3000, display=1), IRIS, tight)
    big = DataShape(n_features=40, n_classes=3, n_train=20_000, n_test=0)
    with pytest.raises(ControlError, match="too big to train live on 20,000 rows"):
        check_run(Config(hidden=(64,) * 4), big)
    with pytest.raises(ControlError, match=r"about \d+\.\d MB on the server; the limit is 4.0"):
        check_run(Config(hidden=(2,)), DataShape(40, 3, 10_000, 10_000))


@fixed(200)
@given(st.dictionaries(st.sampled_from(["MLPLAB_MAX_SESSIONS", "MLPLAB_TICK_SECONDS",
                                        "MLPLAB_MAX_PARAMETERS", "MLPLAB_MAX_ITERATIONS",
                                        "MLPLAB_MAX_REQUEST_BYTES", "MLPLAB_UNRELATED"]),
                       st.one_of(st.text(max_size=12), st.integers(-5, 10**9).map(str),
                                 st.floats().map(str))))
def test_limits_from_the_environment_are_valid_or_a_clear_error(environ):
    try:
        limits = Limits.from_env(environ)
    except LimitError as exc:
        assert str(exc).startswith("MLPLAB_")
        return
    assert 1 <= limits.max_sessions and 0.005 <= limits.tick_seconds <= 5
    assert limits.max_iterations % 100 == 0
    assert limits.max_request_bytes >= limits.max_upload_bytes * 4 // 3


def test_limits_defaults_and_overrides():
    assert Limits.from_env({}) == Limits()
    env = {"MLPLAB_MAX_SESSIONS": "3", "MLPLAB_TICK_SECONDS": "0.05",
           "MLPLAB_MAX_HIDDEN_UNITS": "1_000"}
    limits = Limits.from_env(env)
    assert (limits.max_sessions, limits.tick_seconds, limits.max_hidden_units) == (3, 0.05, 1000)
    for bad in ({"MLPLAB_MAX_SESSIONS": "many"}, {"MLPLAB_MAX_SESSIONS": "0"},
                {"MLPLAB_TICK_SECONDS": "nan"}, {"MLPLAB_MAX_HIDDEN_UNITS": "5000"},
                {"MLPLAB_MAX_ITERATIONS": "150"}, {"MLPLAB_MAX_REQUEST_BYTES": "20000"}):
        with pytest.raises(LimitError, match=next(iter(bad))):
            Limits.from_env(bad)


def test_readme_states_the_caps():
    """The README's table of caps is limits_table(): the docs cannot drift from the code."""
    assert limits_table() in README.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- uploads
@fixed(200)
@given(st.one_of(json_values, st.text(max_size=200),
                 st.binary(max_size=300).map(
                     lambda b: "data:text/csv;base64," + base64.b64encode(b).decode()),
                 st.text(max_size=50).map(lambda t: "data:text/csv;base64," + t)))
def test_decode_upload_gives_bytes_or_a_control_error(contents):
    try:
        data = decode_upload(contents)
    except ControlError:
        return
    assert isinstance(data, bytes) and len(data) <= LIMITS.max_upload_bytes


def test_decode_upload_checks_the_size_before_decoding():
    tiny = Limits(max_upload_bytes=1024, max_request_bytes=16 * 1024 + 64 * 1024)
    ok = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,x\n" * 100).decode()
    assert decode_upload(ok, tiny) == b"a,b\n1,x\n" * 100
    huge = "data:text/csv;base64," + "!" * 10_000  # not even base64: refused on size first
    with pytest.raises(ControlError, match="larger than the limit"):
        decode_upload(huge, tiny)
    with pytest.raises(ControlError, match="not valid base64"):
        decode_upload("data:text/csv;base64,@@@@", tiny)
    with pytest.raises(ControlError, match="not a file"):
        decode_upload("http://example.com/x.csv", tiny)


def test_check_data_shape():
    assert check_data_shape(IRIS) is IRIS
    with pytest.raises(ControlError, match="has 20,001 rows; the limit is 20,000"):
        check_data_shape(DataShape(4, 3, 10_001, 10_000))
    with pytest.raises(ControlError, match="51 feature columns; the limit is 50"):
        check_data_shape(DataShape(51, 3, 10, 10))
    with pytest.raises(ControlError, match="21 classes"):
        check_data_shape(DataShape(4, 21, 10, 10))


# ------------------------------------------------------------------ the request envelope
APP = create_app(MemoryStore())
SPECS = callback_specs(APP)
NAMES = sorted(SPECS)


def _real_body(name):
    _key, spec = SPECS[name]
    values = {d["id"]: d.get("value") for d in CAPTURED_TICK["inputs"] + CAPTURED_TICK["state"]}
    changed = [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]
    return callback_body(SPECS, name, values, changed)


def test_real_bodies_pass_the_envelope_check():
    for name in NAMES:
        check_callback_request(_real_body(name), APP.callback_map)
    check_callback_request(CAPTURED_TICK, APP.callback_map)


paths = st.lists(st.one_of(st.sampled_from(["output", "outputs", "inputs", "state",
                                            "changedPropIds", "id", "property", "value"]),
                           st.integers(0, 14)), min_size=1, max_size=3)


def _mutate(body, path, new, delete):
    """Replace (or delete) whatever `path` reaches in `body`; paths that miss change nothing."""
    target = body
    for step in path[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return body
    last = path[-1]
    try:
        if delete:
            del target[last]
        else:
            target[last] = new
    except (KeyError, IndexError, TypeError):
        pass
    return body


@fixed(500)
@given(st.sampled_from(NAMES), st.lists(st.tuples(paths, json_values, st.booleans()),
                                        min_size=1, max_size=3))
def test_forged_envelopes_get_400_or_a_normal_answer_never_500(name, mutations):
    """Generated forgeries of real bodies, posted through Flask's test client to the real
    app: the envelope check refuses them (400) or Dash runs the callback, whose validation
    answers 200 (or 204); nothing ever reaches a 500 (MLPLAB_STRICT=1: an unexpected
    exception in a callback would be one)."""
    body = _real_body(name)
    for path, new, delete in mutations:
        body = _mutate(body, path, new, delete)
    try:
        check_callback_request(body, APP.callback_map)
        passes = True
    except RequestError:
        passes = False
    text = json.dumps(body, allow_nan=True)
    event("envelope accepted" if passes else "envelope refused (400)")
    r = APP.server.test_client().post("/_dash-update-component", data=text,
                                      content_type="application/json")
    assert r.status_code == (400 if not passes else r.status_code)
    event(f"HTTP {r.status_code}")
    assert r.status_code in (200, 204, 400), (r.status_code, r.get_data(as_text=True)[:300])
    assert b"Traceback" not in r.get_data()


def test_an_integer_longer_than_a_browser_writes_makes_the_request_malformed():
    """JavaScript writes 1e21 and up as "1e+21": an integer literal of more digits (which
    float() could not even convert) comes from no page, and gets 400 before any callback;
    21 digits still reach the callback, whose validation answers."""
    body = json.loads(json.dumps(CAPTURED_TICK))
    client = APP.server.test_client()
    for digits, status in ((400, {400}), (22, {400}), (21, {200, 204})):
        for item in body["state"]:
            if item["id"] == ids.SLIDER_HIDDEN:
                item["value"] = "HUGE"
        text = json.dumps(body).replace('"HUGE"', "9" * digits)
        r = client.post("/_dash-update-component", data=text, content_type="application/json")
        assert r.status_code in status, (digits, r.status_code)
        assert b"Traceback" not in r.get_data()
