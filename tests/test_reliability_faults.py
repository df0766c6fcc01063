"""Session store faults, for real: gunicorn -w 2 against a real redis-server; a worker
SIGKILLed in the middle of a tick; Redis absent at start, frozen mid-run (SIGSTOP) and killed
mid-run; many ticks for one session at once. The tab is simulated over HTTP (_reliability
.HttpPage: it applies responses as the renderer does, and treats a failed request as a
dropped response), and each run is compared, point by point, with the core's own run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid

import numpy as np
import pytest
import redis
import requests
from _reliability import (
    Gunicorn,
    HttpPage,
    RedisProcess,
    callback_body,
    callback_specs,
    check_concurrent_ticks,
    fire_at_once,
)

from dashboard import ids
from dashboard.app import create_app
from dashboard.limits import LIMITS
from dashboard.sessions import (
    MemoryStore,
    RedisStore,
    SessionBusy,
    SessionTooLarge,
    StoreUnavailable,
)
from dashboard.validation import SPEEDS
from mlpcore import Config, Trainer

pytestmark = pytest.mark.redis
SPECS = callback_specs(create_app(MemoryStore()))  # the same callback map as the servers'
TOP_SPEED = len(SPEEDS) - 1


def reference(config):
    trainer = Trainer(config)
    trainer.step(config.maxit)
    h = trainer.history
    return trainer, [int(s) for s in h.step]


def stored(url, sid):
    """The session as Redis holds it (read without a lock: for checks only)."""
    store = RedisStore(url)
    blob, meta = store.client.hmget(store._keys(sid)[1], ["trainer", "meta"])
    return Trainer.from_bytes(blob), json.loads(meta)


def tick(page, trigger="tick"):
    """One tick; a request that fails at the connection (its worker died) is a dropped
    response, as it is for the browser. Returns "ok", "busy" (204) or "dropped"."""
    try:
        response = page.tick(trigger)
    except requests.ConnectionError:
        page.http = requests.Session()  # the pooled connection went with the worker
        return "dropped"
    return "ok" if response is not None else "busy"


def assert_same_run(page, config):
    core, steps = reference(config)
    assert (page.state, page.iteration) == (core.status, config.maxit)
    x, y = page.curve()
    assert x == steps  # every point once: none lost, none doubled
    core_loss = [float(f"{v:.5g}") for v in core.history.loss]
    assert y == core_loss
    assert page.figures[ids.GRAPH_CONFUSION]["data"][0]["z"] == core.confusion("test").tolist()
    return core


def app_log_lines(server, level):
    return [line for line in server.text().splitlines() if f"{level} mlplab:" in line]


# --------------------------------------------------------------------------- worker kill
def test_a_worker_killed_mid_tick_loses_and_doubles_nothing(redis_server, tmp_path):
    """Twice during a run, the worker holding the session's lock is SIGKILLed while it
    trains. Its lock expires after the lease; meanwhile the other worker answers "busy"
    (204) and the page simply ticks again; then the run goes on from the last committed
    state. The page ends with exactly the core's 200 points, the stored run with exactly
    the core's parameters."""
    server = Gunicorn(tmp_path / "gunicorn.log", {"MLPLAB_REDIS_URL": redis_server})
    r = redis.Redis.from_url(redis_server)
    try:
        config = Config.document().replace(hidden=(32, 32), maxit=10_000, display=50)
        page = HttpPage(server.url, SPECS, hidden=32, layers=2, maxit=10_000,
                        speed=TOP_SPEED)
        page.tick(None)
        page.toggle()
        lock_key = f"mlplab:lock:{page.session}"
        kills, outcomes, recovered_after = [], [], []
        deadline = time.monotonic() + 120
        while page.running:
            assert time.monotonic() < deadline
            if len(kills) < 2 and page.iteration >= 2500 * (len(kills) + 1):
                done = threading.Event()
                holder = {}

                def in_flight(holder=holder, done=done):
                    holder["outcome"] = tick(page)
                    done.set()

                t = threading.Thread(target=in_flight)
                t.start()
                token = None
                while not done.is_set() and token is None:
                    token = r.get(lock_key)
                if token is not None:
                    pid = int(token.split(b"-")[0])
                    assert pid in server.workers()  # a gunicorn worker holds it
                    os.kill(pid, signal.SIGKILL)
                    if r.get(lock_key) == token:  # killed while holding the lock
                        kills.append((pid, r.pttl(lock_key), page.iteration))
                        killed_at = time.monotonic()
                t.join(30)
                outcomes.append(holder.get("outcome"))
                continue
            before = page.iteration
            outcome = tick(page)
            outcomes.append(outcome)
            if kills and page.iteration > before and len(recovered_after) < len(kills):
                recovered_after.append(time.monotonic() - killed_at)
        assert len(kills) == 2, kills
        for _pid, pttl, _it in kills:
            assert 0 < pttl <= LIMITS.lock_lease_seconds * 1000  # the dead worker's lease
        assert "busy" in outcomes and "dropped" in outcomes, outcomes
        for seconds in recovered_after:  # lease + one lock wait + a tick, at most
            assert seconds < LIMITS.lock_lease_seconds + LIMITS.lock_wait_seconds + 2
        core = assert_same_run(page, config)
        trainer, _meta = stored(redis_server, page.session)
        assert trainer.iteration == 10_000 and trainer.history == core.history
        np.testing.assert_array_equal(trainer._theta, core._theta)
        server.wait_workers(2)  # gunicorn replaced them
        assert len(server.seen_workers) >= 4
    finally:
        server.stop()
    text = server.text()
    assert text.count("SIGKILL") >= 2  # gunicorn noticed each death
    assert "Traceback" not in text and not app_log_lines(server, "ERROR")


def test_many_ticks_for_one_session_at_once_on_two_workers(redis_server, tmp_path):
    """64 identical ticks for one session released together against gunicorn -w 2 --threads
    4: the Redis lock serialises them; every served tick did exactly its 20 iterations
    from a distinct state, the busy ones none, and the stored run is the core's."""
    # 64 requests at once can stretch a 20-iteration tick past the 0.1 s time box, which
    # then cuts it short (as it should); this test is about the lock: the longest time box
    server = Gunicorn(tmp_path / "gunicorn.log", {"MLPLAB_REDIS_URL": redis_server,
                                                  "MLPLAB_TICK_SECONDS": "5"})
    try:
        page = HttpPage(server.url, SPECS, speed=SPEEDS.index(20), maxit=3000)
        page.tick(None)
        page.toggle()
        base = page.iteration
        body = callback_body(SPECS, "advance", page.values(),
                             [f"{ids.INTERVAL_TICK}.n_intervals"])
        n = 64
        results = fire_at_once(server.url, body, n)
        trainer, _meta = stored(redis_server, page.session)
        params = {k: v.copy() for k, v in trainer.params.items()}
        served, busy = check_concurrent_ticks(results, base, 20, (trainer.iteration, params), n)
        assert served + busy == n and served >= 8
    finally:
        server.stop()
    assert "Traceback" not in server.text() and not app_log_lines(server, "ERROR")


# ---------------------------------------------------------------------------- Redis down
def test_redis_down_at_start_frozen_and_killed_mid_run(tmp_path):
    """One gunicorn -w 2, one redis-server the test starts, freezes and kills:
    - no Redis at start: the page loads, says training is on hold, the read-outs still
      work, and it keeps trying; Redis starts: the lab works;
    - Redis frozen mid-run (SIGSTOP: requests time out): "on hold", nothing moves; thawed:
      the run goes on and ends point for point as the core's;
    - Redis killed mid-run and restarted empty: "on hold", then a fresh run with a note.
    Never a 500, never a traceback."""
    rp = RedisProcess(tmp_path)
    env = {"MLPLAB_REDIS_URL": rp.url, "MLPLAB_REDIS_TIMEOUT_SECONDS": "0.3",
           "MLPLAB_LOCK_WAIT_SECONDS": "0.3", "MLPLAB_LOCK_LEASE_SECONDS": "1"}
    server = Gunicorn(tmp_path / "gunicorn.log", env)
    try:
        # --- no Redis at start
        page = HttpPage(server.url, SPECS, maxit=2000, speed=SPEEDS.index(100))
        page.tick(None)
        assert "session store (Redis) is unreachable" in page.status
        assert page.running  # it keeps trying (max_intervals -1)
        assert page.figures[ids.GRAPH_CURVES] is None and page.client["run"] is None
        page.toggle()
        assert "unreachable" in page.status
        values = page.post("show_values", [f"{ids.SLIDER_HIDDEN}.value"])
        assert values[ids.TEXT_HIDDEN]["children"] == "6"  # what needs no store still works
        assert requests.get(server.url + "/", timeout=10).status_code == 200

        rp.start()
        page.tick()  # the same page, unchanged: it goes on by itself
        assert page.state == "ready" and page.client["run"] and "unreachable" not in page.status
        page.toggle()
        while page.iteration < 600:
            assert tick(page) == "ok"

        # --- Redis frozen mid-run
        rp.pause()
        shown = (page.iteration, page.client, json.dumps(page.figures))
        for _ in range(3):
            start = time.monotonic()
            assert tick(page) == "ok"
            assert time.monotonic() - start < 3  # timeouts bound the wait
            assert "unreachable" in page.status
        assert (page.iteration, page.client, json.dumps(page.figures)) == shown
        rp.resume()
        outcomes = []
        deadline = time.monotonic() + 60
        while page.running:
            assert time.monotonic() < deadline
            outcomes.append(tick(page))
        assert set(outcomes) <= {"ok", "busy"}
        assert_same_run(page, Config.document().replace(maxit=2000))

        # --- Redis killed mid-run, restarted empty
        page.reset()
        page.toggle()
        tick(page)
        rp.kill()
        assert tick(page) == "ok" and "unreachable" in page.status
        rp.start()
        page.tick()
        assert "not found on the server" in page.status and page.state == "ready"
        assert page.client["n"] == 0 and page.iteration == 0
        page.toggle()
        while page.running:
            assert tick(page) in ("ok", "busy")
        assert_same_run(page, Config.document().replace(maxit=2000))
        assert 500 not in page.codes
    finally:
        server.stop()
        rp.kill()
    text = server.text()
    assert "Traceback" not in text and not app_log_lines(server, "ERROR")
    down = [line for line in app_log_lines(server, "WARNING") if "(Redis) failed" in line]
    back = [line for line in app_log_lines(server, "INFO") if "answers again" in line]
    assert 3 <= len(down) <= 6 and 1 <= len(back) <= len(down)  # once per outage per worker


# ------------------------------------------------------------------ the store's own caps
def sid(i: int) -> str:
    return f"{i:032x}"


def small_trainer():
    return Trainer(Config.document().replace(maxit=200))


def test_redis_store_caps_live_sessions_least_recently_used_first(redis_server):
    store = RedisStore(redis_server, max_sessions=3)
    for i in range(6):
        with store.session(sid(i), small_trainer) as s:
            s.trainer.step(i + 1)
    live = f"{store.prefix}live"
    assert store.live_sessions() == 3
    assert sorted(m.decode() for m in store.client.zrange(live, 0, -1)) == [
        sid(3), sid(4), sid(5)]  # the three least recently used were dropped, data and all
    assert [store.client.exists(store._keys(sid(i))[1]) for i in range(6)] == [0, 0, 0, 1, 1, 1]
    with store.session(sid(5), small_trainer) as s:
        assert not s.is_new and s.trainer.iteration == 6
    assert 0 < store.client.pttl(live) <= LIMITS.session_idle_seconds * 1000


def test_redis_store_size_cap_and_damaged_sessions(redis_server):
    store = RedisStore(redis_server, max_bytes=64 * 1024)
    with store.session(sid(1), small_trainer) as s:
        s.trainer.step(10)
    big = lambda: Trainer(Config.document().replace(maxit=20_000, display=1))  # noqa: E731
    with pytest.raises(SessionTooLarge, match="not saved"), store.session(sid(2), big) as s:
        s.trainer.step(5000)  # 5000 history points: over 64 KiB
    with store.session(sid(2), small_trainer) as s:
        assert s.is_new  # nothing was saved
    _lock, data_key = store._keys(sid(1))
    for damage in ({"meta": b'{"run": 5}'}, {"meta": b"[]"}, {"trainer": b"x" * 70_000},
                   {"trainer": b"MLPLAB junk"}):
        store.client.hset(data_key, mapping=damage)
        with store.session(sid(1), small_trainer) as s:
            assert s.is_new and s.trainer.iteration == 0  # a fresh run, no exception


def test_a_dead_holders_lock_expires_after_its_lease(redis_server):
    """A lock left by a process that died (here: set by hand, with the lease) makes the
    session busy until the lease runs out, then the session is served again."""
    store = RedisStore(redis_server, lock_timeout=0.2, lease_seconds=1.0)
    with store.session(sid(7), small_trainer) as s:
        s.trainer.step(3)
    lock_key, _data = store._keys(sid(7))
    store.client.set(lock_key, f"{os.getpid() + 99999}-{uuid.uuid4().hex}", px=1000)
    start = time.monotonic()
    busy = 0
    while True:
        try:
            with store.session(sid(7), small_trainer) as s:
                assert s.trainer.iteration == 3 and not s.is_new
                break
        except SessionBusy:
            busy += 1
    assert busy >= 1 and 0.8 < time.monotonic() - start < 1.0 + 0.2 + 0.5
    with store.session(sid(7), small_trainer) as s:  # our own lock was released
        token = store.client.get(lock_key).decode()
        assert token.startswith(f"{os.getpid()}-")  # the holder's pid, for an operator


def test_unreachable_redis_is_quick_and_a_sentence(tmp_path):
    rp = RedisProcess(tmp_path)  # never started: nothing listens on its port
    store = RedisStore(rp.url, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="Training is on hold"), \
            store.session(sid(1), small_trainer):
        pass
    assert time.monotonic() - start < 1.0
