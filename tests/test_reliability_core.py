"""mlpcore's public API under hostile input (hypothesis, derandomised), numerical faults, and
"no code from data" (no pickle, eval or exec anywhere in dashboard/ and mlpcore/).

Config, Trainer and Trainer.from_bytes must answer anything with a working object or a
ValueError (a sentence), never another exception; training at absurd settings must end in
"diverged" with a message naming the iteration, and must not print numpy warnings.
"""

from __future__ import annotations

import ast
import json
import math
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpcore import Config, Trainer
from mlpcore.config import MAX_LR
from mlpcore.toydata import make_dataset
from mlpcore.trainer import STATUSES

REPO = Path(__file__).resolve().parent.parent
FIXED = settings(derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fixed(n: int):
    return settings(FIXED, max_examples=n)


junk = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.lists(st.integers(-5, 100), max_size=10), st.dictionaries(st.text(max_size=5),
                                                                  st.integers(), max_size=3),
    st.sampled_from([np.float64("nan"), np.int64(6), np.float32(0.5), np.bool_(True),
                     np.array([6, 6]), range(3), range(10**15), b"relu", 1e308, -0.0]))
FIELDS = ("seed", "hidden", "activation", "lr", "reg", "maxit", "abstol", "display",
          "init_scale", "batch_size", "sample_kind")


def small(key):
    """Sensible values for one Config field, so that valid configs are drawn often."""
    return {
        "seed": st.integers(-(2**31) + 1, 2**31 - 1),
        "hidden": st.lists(st.integers(1, 12), min_size=1, max_size=3),
        "activation": st.sampled_from(["relu", "tanh", "sigmoid", "identity"]),
        "lr": st.floats(1e-6, MAX_LR), "reg": st.floats(0, 1e3),
        "maxit": st.integers(1, 200), "abstol": st.floats(0, 10),
        "display": st.integers(1, 50), "init_scale": st.floats(1e-6, 1e3),
        "batch_size": st.one_of(st.none(), st.integers(1, 100)),
        "sample_kind": st.sampled_from(["rounding", "rejection"]),
    }[key]


config_kwargs = st.fixed_dictionaries({}, optional={
    k: st.one_of(small(k), small(k), junk) for k in FIELDS})


# -------------------------------------------------------------------------------- Config
@fixed(500)
@given(config_kwargs)
def test_config_is_valid_or_a_value_error(kwargs):
    try:
        config = Config(**kwargs)
    except ValueError as exc:
        assert str(exc)
        return
    assert math.isfinite(config.lr) and config.lr > 0 and math.isfinite(config.reg)
    assert all(type(h) is int and h >= 1 for h in config.hidden)
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@fixed(300)
@given(st.one_of(junk, st.dictionaries(st.text(max_size=12), junk, max_size=4),
                 st.dictionaries(st.sampled_from(FIELDS), junk, max_size=4)))
def test_config_from_dict_is_valid_or_a_value_error(d):
    try:
        Config.from_dict(d)
    except ValueError:
        pass


# ------------------------------------------------------------------------------- Trainer
@fixed(150)
@given(config_kwargs, st.one_of(st.integers(0, 300), junk))
def test_trainer_runs_or_refuses_and_never_warns(kwargs, n):
    """Any Config the core accepts trains: it runs, converges, finishes or diverges (with a
    message naming the iteration), and numpy never warns (overflow is expected, not news)."""
    try:
        config = Config(**kwargs)
    except ValueError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(config)
        try:
            trainer.step(n)
        except ValueError:
            assert not (isinstance(n, int) and not isinstance(n, bool) and n >= 0)
            return
        assert trainer.status in STATUSES and trainer.iteration <= config.maxit
        message = trainer.message
        assert all(math.isfinite(v) for v in trainer.history.loss)
        if trainer.status == "diverged":
            assert f"iteration {trainer._failure[1]}" in message
            assert "smaller learning rate" in message
        trainer.confusion("test"), trainer.accuracy("train"), trainer.predict([[0, 0, 0, 0]])
        again = Trainer.from_bytes(trainer.to_bytes())
        assert again.iteration == trainer.iteration and again.status == trainer.status


@fixed(100)
@given(st.one_of(junk, st.lists(st.lists(junk, max_size=5), max_size=3)))
def test_trainer_predict_refuses_junk_with_value_error(X):
    trainer = Trainer(Config.document())
    try:
        out = trainer.predict(X)
    except ValueError:
        return
    assert out.shape == (np.asarray(X, dtype=float).shape[0],)


@pytest.mark.parametrize("bad", [None, "3", 2.0, -1, True, math.nan])
def test_step_refuses_non_counts(bad):
    with pytest.raises(ValueError, match="step count"):
        Trainer(Config.document()).step(bad)


def test_trainer_refuses_non_configs():
    for bad in (None, {}, Config.document().to_dict(), "document"):
        with pytest.raises(ValueError):
            Trainer(bad)
    with pytest.raises(ValueError):
        Trainer(Config.document(), dataset="iris")


# -------------------------------------------------------------------- numerical faults
@pytest.mark.parametrize("settings_", [
    dict(lr=10.0, hidden=(16,), seed=2024),
    dict(lr=1000.0, init_scale=1000.0, activation="sigmoid", reg=1000.0),
    dict(lr=1000.0, init_scale=10.0, activation="identity", reg=0.0),
    dict(lr=500.0, hidden=(64, 64, 64, 64), init_scale=1.0, activation="tanh"),
    dict(lr=100.0, batch_size=10, init_scale=5.0),
])
def test_divergence_is_reported_with_the_iteration_and_no_warning(settings_):
    config = Config.document().replace(**settings_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(config)
        trainer.step(3000)
        assert trainer.status == "diverged"
        kind, i, _value = trainer._failure
        assert f"iteration {i}" in trainer.message and "Try a smaller learning rate" \
            in trainer.message
        assert trainer.step(10) == 0 and trainer.iteration == i - (kind == "loss")
        trainer.confusion("test"), trainer.dead_units()  # no warnings on the way
        assert all(math.isfinite(v) for v in trainer.history.loss)


def test_non_finite_parameters_are_diverged_whatever_the_loss():
    """Parameters that turn to inf/NaN in an update (the "params" path) stop the run too."""
    trainer = Trainer(Config.document())
    trainer.step(5)
    trainer._theta[3] = math.inf  # as if an update had overflowed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.step(5)
        assert trainer.status == "diverged" and "iteration" in trainer.message
        trainer.confusion("test")


# ----------------------------------------------------------------------------- from_bytes
PREFIX = struct.Struct("<6sHII")
VALID = Trainer(Config.document().replace(maxit=200))
VALID.step(120)
BLOB = VALID.to_bytes()


def _split(blob):
    magic, version, head_len, _crc = PREFIX.unpack_from(blob)
    body = blob[PREFIX.size:]
    return magic, version, json.loads(body[:head_len]), body[head_len:]


def _pack(magic, version, header, payload):
    head = json.dumps(header, separators=(",", ":")).encode()
    body = head + payload
    return PREFIX.pack(magic, version, len(head), zlib.crc32(body)) + body


def _loads_or_value_error(blob):
    try:
        trainer = Trainer.from_bytes(blob)
    except ValueError as exc:
        assert str(exc)
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.step(3)  # whatever it holds, a loaded run can go on (or say it diverged)
    return trainer


@fixed(200)
@given(st.one_of(st.binary(max_size=2000), junk,
                 st.binary(max_size=64).map(lambda b: BLOB[:PREFIX.size] + b)))
def test_from_bytes_refuses_random_input(data):
    assert _loads_or_value_error(data) is None or isinstance(data, bytes)


@fixed(200)
@given(st.lists(st.tuples(st.integers(0, len(BLOB) - 1), st.integers(0, 255)),
                min_size=1, max_size=8), st.booleans())
def test_from_bytes_with_damaged_bytes(flips, fix_crc):
    """Bytes changed anywhere; with the checksum recomputed, the damage reaches the parser
    (header fields, shapes, offsets, array contents)."""
    blob = bytearray(BLOB)
    for pos, value in flips:
        blob[pos] = value
    if fix_crc:
        body = bytes(blob[PREFIX.size:])
        struct.pack_into("<I", blob, 12, zlib.crc32(body))
    _loads_or_value_error(bytes(blob))


header_keys = st.sampled_from(sorted(_split(BLOB)[2]))
config_keys = st.sampled_from(sorted(VALID.config.to_dict()))
array_keys = st.sampled_from(sorted(_split(BLOB)[2]["arrays"]))
json_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(),
              st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
huge_shapes = st.sampled_from([[[10**9], 0], [[-1], 0], [[4096, 4096], 0], [[3], 7],
                               [[0], 0], [[2**62, 4], 8], [[1], 2**40]])


@fixed(300)
@given(st.one_of(
    st.tuples(st.just("header"), header_keys, json_junk),
    st.tuples(st.just("config"), config_keys, st.one_of(json_junk, st.sampled_from(
        [[4096] * 8, [4096], 10**8, 1e308, "tanh", None]))),
    st.tuples(st.just("arrays"), array_keys, st.one_of(huge_shapes, json_junk)),
    st.tuples(st.just("drop"), header_keys, st.none())))
def test_from_bytes_with_a_forged_header(change):
    """A well-formed, checksummed blob whose JSON header lies (wrong types, huge shapes, a
    4096 x 8 network over a 51-parameter payload): ValueError, and no huge allocation."""
    where, key, value = change
    magic, version, header, payload = _split(BLOB)
    if where == "header":
        header[key] = value
    elif where == "config":
        header["config"][key] = value
    elif where == "arrays":
        header["arrays"][key] = value
    else:
        del header[key]
    _loads_or_value_error(_pack(magic, version, header, payload))


def test_from_bytes_checks_the_size_first():
    assert Trainer.from_bytes(BLOB, max_bytes=len(BLOB)).iteration == 120
    with pytest.raises(ValueError, match=f"larger than {len(BLOB) - 1} bytes"):
        Trainer.from_bytes(BLOB, max_bytes=len(BLOB) - 1)
    magic, version, header, payload = _split(BLOB)
    header["config"]["hidden"] = [4096] * 8  # a 117-million-parameter claim
    with pytest.raises(ValueError, match="network has 117501955 parameters, the data 51"):
        Trainer.from_bytes(_pack(magic, version, header, payload))


# ------------------------------------------------------------------- no code from data
BANNED_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle",
                  "joblib", "jsonpickle", "yaml"}
BANNED_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}  # as bare names
BANNED_METHODS = {"eval", "exec"}  # pandas' DataFrame.eval / query-style evaluation
BANNED_ATTRIBUTES = {"read_pickle", "to_pickle", "loads_pickle", "load_pickle",
                     "unsafe_load", "full_load"}


def scan(root: Path) -> tuple[int, list[str]]:
    """(files read, offences) in root/dashboard and root/mlpcore."""
    problems = []
    files = [p for package in ("dashboard", "mlpcore")
             for p in sorted((root / package).rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(root)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.append(node.module)
                bad = {n.split(".")[0] for n in names} & BANNED_MODULES
                if bad:
                    problems.append(f"{where}:{node.lineno} imports {bad}")
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else \
                    func.attr if isinstance(func, ast.Attribute) else None
                if (isinstance(func, ast.Name) and name in BANNED_CALLS) or \
                        (isinstance(func, ast.Attribute) and name in BANNED_METHODS):
                    problems.append(f"{where}:{node.lineno} calls {name}()")
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and not (
                            isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        problems.append(f"{where}:{node.lineno} allow_pickle")
                if name == "load" and isinstance(func, ast.Attribute) and \
                        getattr(func.value, "id", "") in ("np", "numpy") and \
                        not any(kw.arg == "allow_pickle" for kw in node.keywords):
                    problems.append(f"{where}:{node.lineno} np.load without allow_pickle=False")
            elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
                problems.append(f"{where}:{node.lineno} uses .{node.attr}")
            elif isinstance(node, ast.Name) and node.id in BANNED_MODULES:
                problems.append(f"{where}:{node.lineno} names {node.id}")
    return len(files), problems


def test_no_code_executing_formats_or_eval_anywhere():
    """No pickle (or any format that runs code when read), no eval/exec/compile, no
    allow_pickle=True in dashboard/ and mlpcore/: every byte that crosses a process (Redis)
    or comes from a user is parsed as data (JSON, raw arrays, CSV text)."""
    n_files, problems = scan(REPO)
    assert n_files > 20 and problems == []


def test_the_scan_would_catch_them(tmp_path):
    """The test above can fail: planted offences are found."""
    planted = tmp_path / "dashboard"
    planted.mkdir()
    (planted / "bad.py").write_text(
        "import pickle\nfrom marshal import loads\nimport numpy as np\n"
        "x = eval('1')\nexec('y = 2')\nnp.load('f.npy', allow_pickle=True)\nnp.load('g')\n"
        "import pandas as pd\npd.read_pickle('h')\nimport re\nre.compile('ok')\n")
    (tmp_path / "mlpcore").mkdir()
    (tmp_path / "mlpcore" / "ok.py").write_text("import json\njson.loads('1')\n")
    n_files, problems = scan(tmp_path)
    text = "\n".join(problems)
    assert n_files == 2 and len(problems) == 7, text
    for offence in ("imports {'pickle'}", "imports {'marshal'}", "calls eval()",
                    "calls exec()", "allow_pickle", "np.load without", ".read_pickle"):
        assert offence in text, offence


HUGE = 10**400  # a JSON integer float() cannot convert (OverflowError)


@pytest.mark.parametrize("make", [
    lambda: Config(lr=HUGE), lambda: Config(reg=-HUGE), lambda: Config(abstol=HUGE),
    lambda: make_dataset("spiral", n_points=HUGE), lambda: make_dataset("circles", noise=HUGE),
], ids=["lr", "reg", "abstol", "points", "noise"])
def test_integers_too_large_for_a_float_are_a_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_a_model_file_with_a_huge_integer_is_a_value_error():
    from mlpcore.export import model_from_json, model_to_json

    t = Trainer(Config.document().replace(maxit=10))
    t.step(10)
    doc = json.loads(model_to_json(t))
    for key in ("config", "params"):
        forged = json.loads(json.dumps(doc))
        if key == "config":
            forged["config"]["lr"] = HUGE
        else:
            name = next(iter(forged["params"]))
            forged["params"][name][0][0] = HUGE
        with pytest.raises(ValueError):
            model_from_json(json.dumps(forged))
