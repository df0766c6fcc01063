"""The session stores: bounds, expiry, commit semantics and locking, in memory and in Redis."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import free_port

from dashboard.sessions import (
    MemoryStore,
    RedisStore,
    SessionBusy,
    StoreUnavailable,
    store_from_env,
)
from mlpcore import Config, Trainer

CONFIG = Config.document()


def make_trainer():
    return Trainer(CONFIG)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def sid(i: int) -> str:
    return f"{i:032x}"


def hammer(store, session_id, threads=2, rounds=15, chunk=7, pause=0.0):
    """`threads` threads each run `rounds` read-step-write cycles on one session."""
    errors = []

    def work():
        try:
            for _ in range(rounds):
                with store.session(session_id, make_trainer) as s:
                    s.trainer.step(chunk)
                    s.meta["ticks"] = s.meta.get("ticks", 0) + 1
                    if pause:
                        time.sleep(pause)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors
    with store.session(session_id, make_trainer) as s:
        return s.trainer.iteration, s.meta.get("ticks", 0)


# ------------------------------------------------------------------------------- memory
def test_memory_store_creates_once_and_commits_meta():
    store = MemoryStore()
    with store.session(sid(1), make_trainer) as s:
        assert s.is_new and s.trainer.iteration == 0
        assert s.meta["paused"] is True and len(s.meta["run"]) == 32
        run = s.meta["run"]
        s.trainer.step(5)
        s.meta["note"] = "hello"
    with store.session(sid(1), make_trainer) as s:
        assert not s.is_new
        assert s.trainer.iteration == 5 and s.meta == {"run": run, "paused": True, "note": "hello"}


def test_memory_store_does_not_commit_a_failed_block():
    store = MemoryStore()
    with store.session(sid(1), make_trainer) as s:
        s.meta["note"] = "kept"
    with pytest.raises(RuntimeError), store.session(sid(1), make_trainer) as s:
        s.meta["note"] = "lost"
        s.new_run(make_trainer(), "lost too")
        raise RuntimeError("boom")
    with store.session(sid(1), make_trainer) as s:
        assert s.meta["note"] == "kept"


def test_memory_store_evicts_least_recently_used():
    store = MemoryStore(max_sessions=2)
    for i in (1, 2, 1, 3):  # 2 is now the least recently used
        with store.session(sid(i), make_trainer):
            pass
    assert len(store) == 2
    assert sid(1) in store and sid(3) in store and sid(2) not in store
    with store.session(sid(2), make_trainer) as s:
        assert s.is_new  # a fresh run for an evicted session


def test_memory_store_expires_idle_sessions():
    clock = Clock()
    store = MemoryStore(idle_seconds=10, clock=clock)
    with store.session(sid(1), make_trainer) as s:
        s.trainer.step(3)
    clock.now = 5
    with store.session(sid(2), make_trainer):
        pass
    clock.now = 12  # session 1 idle for 12 s, session 2 for 7 s
    with store.session(sid(3), make_trainer):
        pass
    assert sid(1) not in store and sid(2) in store
    with store.session(sid(1), make_trainer) as s:
        assert s.is_new and s.trainer.iteration == 0


def test_memory_store_lock_blocks_a_second_request():
    store = MemoryStore(lock_timeout=0.1)
    with store.session(sid(1), make_trainer):
        result = []

        def other():
            try:
                with store.session(sid(1), make_trainer):
                    result.append("entered")
            except SessionBusy:
                result.append("busy")

        t = threading.Thread(target=other)
        t.start()
        t.join(5)
        assert result == ["busy"]
    with store.session(sid(2), make_trainer):  # other sessions are never blocked
        pass


def test_memory_store_two_threads_exact_total():
    iteration, ticks = hammer(MemoryStore(), sid(7))
    assert (iteration, ticks) == (2 * 15 * 7, 30)


@pytest.mark.redis
def test_store_from_env(redis_server):
    assert isinstance(store_from_env({}), MemoryStore)
    assert store_from_env({"MLPLAB_MAX_SESSIONS": "3"}).max_sessions == 3
    assert isinstance(store_from_env({"MLPLAB_REDIS_URL": redis_server}), RedisStore)


# -------------------------------------------------------------------------------- redis
@pytest.mark.redis
def test_redis_store_round_trip_and_expiry(redis_server):
    store = RedisStore(redis_server, idle_seconds=60)
    with store.session(sid(1), make_trainer) as s:
        assert s.is_new
        s.trainer.step(120)
        s.meta["note"] = "saved"
        run, params = s.meta["run"], {k: v.copy() for k, v in s.trainer.params.items()}
    lock_key, data_key = store._keys(sid(1))
    assert store.client.exists(lock_key) == 0  # released
    assert 0 < store.client.pttl(data_key) <= 60_000  # idle expiry set
    with store.session(sid(1), make_trainer) as s:
        assert not s.is_new and s.trainer.iteration == 120
        assert s.meta == {"run": run, "paused": True, "note": "saved"}
        for k, v in params.items():
            np.testing.assert_array_equal(s.trainer.params[k], v)
        assert len(s.trainer.history) == 2


@pytest.mark.redis
def test_redis_store_unknown_or_unreadable_session_is_fresh(redis_server):
    store = RedisStore(redis_server)
    _lock, data_key = store._keys(sid(2))
    store.client.hset(data_key, mapping={"trainer": b"not a trainer", "meta": b"{}"})
    with store.session(sid(2), make_trainer) as s:
        assert s.is_new and s.trainer.iteration == 0


@pytest.mark.redis
def test_redis_store_refuses_to_commit_after_losing_the_lock(redis_server):
    store = RedisStore(redis_server)
    with store.session(sid(3), make_trainer) as s:
        s.trainer.step(10)
    lock_key, _data = store._keys(sid(3))
    with pytest.raises(SessionBusy), store.session(sid(3), make_trainer) as s:
        s.trainer.step(10)
        store.client.set(lock_key, "someone else")  # our lease ran out, another took it
    assert store.client.get(lock_key) == b"someone else"  # not released by the loser
    store.client.delete(lock_key)
    with store.session(sid(3), make_trainer) as s:
        assert s.trainer.iteration == 10  # the late write was dropped


@pytest.mark.redis
def test_redis_store_two_threads_exact_total(redis_server):
    store = RedisStore(redis_server)
    iteration, ticks = hammer(store, sid(4), pause=0.002)
    assert (iteration, ticks) == (2 * 15 * 7, 30)


@pytest.mark.redis
def test_redis_store_without_the_lock_loses_steps(redis_server, monkeypatch):
    """The control for the test above: the same hammering with the lock disabled loses work,
    so the exact total there is the lock's doing."""
    store = RedisStore(redis_server)
    monkeypatch.setattr(store, "_acquire", lambda key, token: None)
    store._commit = lambda keys, args: store.client.hset(
        keys[1], mapping={"trainer": args[1], "meta": args[2]}) or 1
    iteration, _ticks = hammer(store, sid(5), pause=0.002)
    assert iteration < 2 * 15 * 7


@pytest.mark.redis
def test_redis_store_busy_lock_times_out(redis_server):
    store = RedisStore(redis_server, lock_timeout=0.1)
    lock_key, _data = store._keys(sid(6))
    store.client.set(lock_key, "held", px=5000)
    start = time.monotonic()
    with pytest.raises(SessionBusy), store.session(sid(6), make_trainer):
        pass
    assert time.monotonic() - start < 2


def test_redis_store_unreachable_is_a_clear_error():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", lock_timeout=0.5)
    with pytest.raises(StoreUnavailable, match="unreachable"), store.session(sid(1), make_trainer):
        pass
