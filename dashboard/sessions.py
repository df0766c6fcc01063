"""The session store: where each browser tab's Trainer lives between requests.

One interface, two back ends:

    with store.session(sid, new_trainer) as s:   # locks the session, loads or creates it
        s.trainer.step(50)                       # s.trainer: a Trainer, s.meta: a small dict
        s.meta["paused"] = True                  # committed when the block exits cleanly

- `MemoryStore` (the default) keeps Trainer objects in this process: at most `max_sessions`,
  least recently used evicted first, sessions idle longer than `idle_seconds` dropped (an
  evicted session's next request starts afresh, with a note). It is single-process by
  nature: under gunicorn use `-w 1` (threads are fine), or Redis.
- `RedisStore` (when MLPLAB_REDIS_URL is set) keeps `Trainer.to_bytes()` and a JSON meta in one
  Redis hash per session, with an idle expiry, so any worker on any host can serve any session.

Two requests for one session never work on its trainer at the same time: a lock per session
(a threading.Lock in memory; in Redis `SET lock token NX PX lease`, released and committed by
Lua scripts that check the token, so a request whose lease ran out can neither release another
request's lock nor overwrite its work). A store that cannot get the lock in `lock_timeout`
seconds raises SessionBusy; the caller answers "no update" and the page retries on its next tick.

`s.is_new` is True when no stored session was found (first visit, expired, evicted, or from an
older incompatible version): the store made a fresh one with `new_trainer()`.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mlpcore import Trainer

DEFAULT_MAX_SESSIONS = 200
DEFAULT_IDLE_SECONDS = 3600.0
DEFAULT_LOCK_TIMEOUT = 2.0  # a tick holds a session for milliseconds; don't tie up a worker


class SessionBusy(RuntimeError):
    """The session stayed locked by another request for longer than the lock timeout."""


class StoreUnavailable(RuntimeError):
    """The shared store (Redis) could not be reached."""


def new_meta(note: str = "") -> dict:
    """A new run's meta: its id (the page compares it to notice a new run), paused, a note."""
    return {"run": uuid.uuid4().hex, "paused": True, "note": note}


@dataclass
class Session:
    sid: str
    trainer: Trainer
    meta: dict = field(default_factory=new_meta)
    is_new: bool = False

    def new_run(self, trainer: Trainer, note: str = "") -> None:
        """Replace the run: a new trainer, a new run id, paused."""
        self.trainer = trainer
        self.meta = new_meta(note)


# ------------------------------------------------------------------------------- memory
@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    trainer: Trainer | None = None
    meta: dict | None = None
    used: float = 0.0


class MemoryStore:
    """Sessions in this process's memory; bounded (LRU eviction) and expiring (idle time)."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS,
                 idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic):
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._guard = threading.Lock()  # guards _entries only, never held while training

    def __len__(self) -> int:
        with self._guard:
            return len(self._entries)

    def __contains__(self, sid: str) -> bool:
        with self._guard:
            return sid in self._entries

    def _entry(self, sid: str) -> _Entry:
        now = self._clock()
        with self._guard:
            while self._entries:  # drop idle sessions (oldest use first)
                oldest_sid, oldest = next(iter(self._entries.items()))
                if now - oldest.used <= self.idle_seconds:
                    break
                del self._entries[oldest_sid]
            entry = self._entries.get(sid)
            if entry is None:
                entry = self._entries[sid] = _Entry()
            self._entries.move_to_end(sid)
            entry.used = now
            while len(self._entries) > self.max_sessions:
                self._entries.popitem(last=False)
            return entry

    @contextmanager
    def session(self, sid: str, new_trainer: Callable[[], Trainer]) -> Iterator[Session]:
        entry = self._entry(sid)
        if not entry.lock.acquire(timeout=self.lock_timeout):
            raise SessionBusy(f"session {sid[:8]} is busy")
        try:
            if entry.trainer is None:
                s = Session(sid, new_trainer(), new_meta(), is_new=True)
            else:
                s = Session(sid, entry.trainer, dict(entry.meta))
            yield s
            entry.trainer, entry.meta = s.trainer, s.meta
        finally:
            entry.lock.release()


# -------------------------------------------------------------------------------- redis
_COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'trainer', ARGV[2], 'meta', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    """Sessions in Redis, shared by every worker and host that uses the same URL."""

    def __init__(self, url: str, idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT, lease_seconds: float = 10.0,
                 prefix: str = "mlplab:"):
        import redis  # optional at run time: only needed in Redis mode

        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.idle_ms = int(idle_seconds * 1000)
        self.lease_ms = int(lease_seconds * 1000)
        self.lock_timeout = lock_timeout
        self.prefix = prefix
        self._commit = self.client.register_script(_COMMIT)
        self._release = self.client.register_script(_RELEASE)

    def _keys(self, sid: str) -> tuple[str, str]:
        return f"{self.prefix}lock:{sid}", f"{self.prefix}session:{sid}"

    def _acquire(self, lock_key: str, token: str) -> None:
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.002
        while not self.client.set(lock_key, token, nx=True, px=self.lease_ms):
            if time.monotonic() >= deadline:
                raise SessionBusy(f"session lock {lock_key} is busy")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @contextmanager
    def session(self, sid: str, new_trainer: Callable[[], Trainer]) -> Iterator[Session]:
        lock_key, data_key = self._keys(sid)
        token = uuid.uuid4().hex
        try:
            self._acquire(lock_key, token)
        except self._errors as exc:
            raise StoreUnavailable(f"the session store (Redis) is unreachable: {exc}") from exc
        try:
            s = self._load(sid, data_key, new_trainer)
            yield s
            blob, meta = s.trainer.to_bytes(), json.dumps(s.meta)
            if not self._commit(keys=[lock_key, data_key], args=[token, blob, meta, self.idle_ms]):
                raise SessionBusy("the session lock expired before the update was saved")
        except self._errors as exc:
            raise StoreUnavailable(f"the session store (Redis) is unreachable: {exc}") from exc
        finally:
            try:
                self._release(keys=[lock_key], args=[token])
            except self._errors:
                pass  # the lease expires on its own

    def _load(self, sid: str, data_key: str, new_trainer: Callable[[], Trainer]) -> Session:
        blob, meta = self.client.hmget(data_key, ["trainer", "meta"])
        if blob is not None and meta is not None:
            try:
                return Session(sid, Trainer.from_bytes(blob), json.loads(meta))
            except (ValueError, KeyError, TypeError):
                pass  # saved by an incompatible version: start afresh
        return Session(sid, new_trainer(), new_meta(), is_new=True)


# ----------------------------------------------------------------------------- factory
def store_from_env(environ=None):
    """RedisStore if MLPLAB_REDIS_URL is set, else MemoryStore. Optional tuning:
    MLPLAB_MAX_SESSIONS (memory only), MLPLAB_SESSION_IDLE_SECONDS."""
    environ = os.environ if environ is None else environ
    idle = float(environ.get("MLPLAB_SESSION_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
    url = environ.get("MLPLAB_REDIS_URL")
    if url:
        return RedisStore(url, idle_seconds=idle)
    max_sessions = int(environ.get("MLPLAB_MAX_SESSIONS", DEFAULT_MAX_SESSIONS))
    return MemoryStore(max_sessions=max_sessions, idle_seconds=idle)
