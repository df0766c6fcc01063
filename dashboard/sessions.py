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

A session's own data (an uploaded CSV, as a JSON spec: mlpcore/dataspec.py) is kept beside it,
out of the per-tick path: `store.put_data(sid, spec)` / `store.get_data(sid)` (a dict entry in
memory; a separate Redis key `<prefix>data:<sid>` with the session's idle expiry, refreshed by
every commit and deleted with the session). Only the creation of a run reads it; a running
run has its split arrays in the Trainer's own bytes.

`s.is_new` is True when no stored session was found (first visit, expired, evicted, or from an
older incompatible version): the store made a fresh one with `new_trainer()`.

Faults (issue 6). Every cap and timeout comes from limits.py. Redis:
- unreachable, timing out or refusing (at start or mid-run): StoreUnavailable, with a sentence
  for the page; nothing is committed, so the run is exactly as it was and goes on when Redis
  answers again (each request tries afresh; each process logs once when it went away and
  once when it came back). Replies time out after MLPLAB_REDIS_TIMEOUT_SECONDS, one retry.
- a worker killed while it holds a session: its lock's lease (MLPLAB_LOCK_LEASE_SECONDS)
  runs out, meanwhile requests for that session get SessionBusy (the page retries), then the
  next request loads the last committed state: a tick is committed whole or not at all, so
  no step is lost or done twice (the page's record only moves with a committed response).
- size: a run whose bytes exceed MLPLAB_MAX_SESSION_BYTES is neither saved (SessionTooLarge)
  nor loaded (a fresh run); the number of live sessions is capped (a sorted set of last-use
  times, trimmed least recently used first by the commit script, as the memory store does).
- a stored session that does not parse (bytes or meta) is replaced by a fresh run.
(MemoryStore keeps the Trainer object itself, so iterations run before an exception in the
block stay done; the page's record did not move, so its next tick receives them: nothing is
lost or doubled there either.)
The lock token starts with the holder's process id, so `GET mlplab:lock:<sid>` tells an
operator which worker holds a session.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mlpcore import Trainer

from .limits import LIMITS, Limits

DEFAULT_MAX_SESSIONS = LIMITS.max_sessions
DEFAULT_IDLE_SECONDS = LIMITS.session_idle_seconds
DEFAULT_LOCK_TIMEOUT = LIMITS.lock_wait_seconds  # a tick holds a session for milliseconds
# a data spec: the uploaded text as a JSON string (escapes can double it) and a little more
DEFAULT_MAX_DATA_BYTES = 2 * LIMITS.max_upload_bytes + 64 * 1024
LOG = logging.getLogger("mlplab")
_HEX_ID = re.compile(r"[0-9a-f]{32}")


class SessionBusy(RuntimeError):
    """The session stayed locked by another request for longer than the lock timeout."""


class StoreUnavailable(RuntimeError):
    """The shared store (Redis) cannot serve the session now; str() is a sentence for the page."""


class SessionTooLarge(StoreUnavailable):
    """The run has grown past MLPLAB_MAX_SESSION_BYTES: it is not saved."""


UNREACHABLE = ("Training is on hold: the session store (Redis) is unreachable. Nothing was "
               "changed; the page keeps trying and goes on when the store is back.")


def valid_meta(meta) -> bool:
    """A session's meta as new_meta() makes it (other keys are allowed)."""
    return (isinstance(meta, dict) and isinstance(meta.get("run"), str)
            and _HEX_ID.fullmatch(meta["run"]) is not None
            and isinstance(meta.get("paused"), bool) and isinstance(meta.get("note", ""), str))


def _check_spec(spec, max_bytes: int) -> None:
    if not isinstance(spec, str) or len(spec) > max_bytes:
        raise ValueError(f"a data spec must be a string of at most {max_bytes} characters")


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
    data: str | None = None  # put_data's spec
    pins: str | None = None  # the Compare tab's pinned runs (JSON, dashboard/pins.py)


class MemoryStore:
    """Sessions in this process's memory; bounded (LRU eviction) and expiring (idle time)."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS,
                 idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic,
                 max_data_bytes: int = DEFAULT_MAX_DATA_BYTES):
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.lock_timeout = lock_timeout
        self._clock = clock
        self.max_data_bytes = max_data_bytes
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

    def put_data(self, sid: str, spec: str) -> None:
        """Keep `spec` (the JSON of this session's own data set) with the session; it goes
        when the session goes (evicted or idle)."""
        _check_spec(spec, self.max_data_bytes)
        self._entry(sid).data = spec

    def get_data(self, sid: str) -> str | None:
        """put_data's spec for this session, or None."""
        with self._guard:
            entry = self._entries.get(sid)
        return None if entry is None else entry.data

    @contextmanager
    def view(self, sid: str) -> Iterator[Session | None]:
        """Read-only: the session as it is now, or None if there is none; never saved back
        and never created. The session's lock is held while the block runs (keep it short,
        and do not change the trainer: panels read, only the tick trains)."""
        with self._guard:
            entry = self._entries.get(sid)
        if entry is None or entry.trainer is None:
            yield None
            return
        if not entry.lock.acquire(timeout=self.lock_timeout):
            raise SessionBusy(f"session {sid[:8]} is busy")
        try:
            yield Session(sid, entry.trainer, dict(entry.meta))
        finally:
            entry.lock.release()

    # Pinned runs (dashboard/pins.py) live beside the run, not in its meta, so the tick never
    # carries them; they survive new runs and go with the session. Write them inside
    # `store.session(sid, ...)` (the session's lock serialises edits); reads take no lock.
    def get_pins(self, sid: str) -> str | None:
        with self._guard:
            entry = self._entries.get(sid)
            return None if entry is None else entry.pins

    def put_pins(self, sid: str, text: str) -> None:
        with self._guard:
            entry = self._entries.get(sid)
            if entry is not None:
                entry.pins = text


# -------------------------------------------------------------------------------- redis
_COMMIT = """
-- KEYS: the lock, the session's hash, the set of live sessions (score: last use, ms), the
--       session's data (put_data; may not exist)
-- ARGV: token, trainer bytes, meta JSON, idle ms, session id, max sessions, hash key prefix,
--       data key prefix
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'trainer', ARGV[2], 'meta', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[6])
if extra > 0 then
  local n = 0
  for _, old in ipairs(redis.call('ZRANGE', KEYS[3], 0, extra)) do
    if n < extra and old ~= ARGV[5] then
      redis.call('DEL', ARGV[7] .. old, ARGV[8] .. old)
      redis.call('ZREM', KEYS[3], old)
      n = n + 1
    end
  end
end
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    """Sessions in Redis, shared by every worker and host that uses the same URL."""

    def __init__(self, url: str, idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 lease_seconds: float = LIMITS.lock_lease_seconds,
                 prefix: str = "mlplab:", max_sessions: int = DEFAULT_MAX_SESSIONS,
                 max_bytes: int = LIMITS.max_session_bytes,
                 timeout: float = LIMITS.redis_timeout_seconds,
                 max_data_bytes: int = DEFAULT_MAX_DATA_BYTES):
        import redis  # optional at run time: only needed in Redis mode
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._errors = (redis.exceptions.RedisError,)
        self._unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        # no connection is made here: a Redis that is down at start is met (and reported)
        # by the first request, and found again by a later one
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1))  # one retry: a pooled connection Redis dropped
        self.idle_ms = max(1, int(idle_seconds * 1000))
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.lock_timeout = lock_timeout
        self.max_sessions = max_sessions
        self.max_bytes = max_bytes
        self.max_data_bytes = max_data_bytes
        self.prefix = prefix
        self._commit = self.client.register_script(_COMMIT)
        self._release = self.client.register_script(_RELEASE)
        self._down_since = None  # for the log only: when Redis last stopped answering

    def _keys(self, sid: str) -> tuple[str, str]:
        return f"{self.prefix}lock:{sid}", f"{self.prefix}session:{sid}"

    @contextmanager
    def _talking(self):
        """Redis errors -> StoreUnavailable (a sentence for the page); one log line when
        Redis goes away and one when it answers again."""
        try:
            yield
        except self._errors as exc:
            if self._down_since is None:
                self._down_since = time.monotonic()
                LOG.warning("the session store (Redis) failed: %s: %s", type(exc).__name__,
                            str(exc)[:200])
            if isinstance(exc, self._unreachable):
                raise StoreUnavailable(UNREACHABLE) from exc
            raise StoreUnavailable(
                f"Training is on hold: the session store (Redis) refused the request "
                f"({str(exc)[:120]}). Nothing was changed; the page keeps trying.") from exc
        if self._down_since is not None:
            LOG.info("the session store (Redis) answers again after %.1f s",
                     time.monotonic() - self._down_since)
            self._down_since = None

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
        token = f"{os.getpid()}-{uuid.uuid4().hex}"  # who holds it, for an operator
        with self._talking():
            self._acquire(lock_key, token)
        try:
            with self._talking():
                s = self._load(sid, data_key, new_trainer)
            yield s
            blob, meta = s.trainer.to_bytes(), json.dumps(s.meta)
            if len(blob) > self.max_bytes:
                raise SessionTooLarge(
                    f"This run has grown to {len(blob) / 2**20:.1f} MB, past the limit of "
                    f"{self.max_bytes / 2**20:.1f} MB per session, so it was not saved. "
                    f"Press Reset, or use a larger display interval.")
            with self._talking():
                ok = self._commit(keys=[lock_key, data_key, f"{self.prefix}live",
                                        self._data_key(sid)],
                                  args=[token, blob, meta, self.idle_ms, sid,
                                        self.max_sessions, f"{self.prefix}session:",
                                        f"{self.prefix}data:"])
            if not ok:
                raise SessionBusy("the session lock expired before the update was saved")
        finally:
            try:
                self._release(keys=[lock_key], args=[token])
            except self._errors:
                pass  # the lease expires on its own

    def _load(self, sid: str, data_key: str, new_trainer: Callable[[], Trainer]) -> Session:
        blob, meta = self.client.hmget(data_key, ["trainer", "meta"])
        if blob is not None and meta is not None:
            try:
                if len(blob) > self.max_bytes:
                    raise ValueError(f"{len(blob)} bytes, over the limit of {self.max_bytes}")
                meta = json.loads(meta)
                if not valid_meta(meta):
                    raise ValueError("malformed meta")
                return Session(sid, Trainer.from_bytes(blob, max_bytes=self.max_bytes), meta)
            except (ValueError, KeyError, TypeError) as exc:  # another version, or damaged
                LOG.warning("session %s could not be loaded (%s): a fresh run", sid[:8],
                            str(exc)[:200])
        return Session(sid, new_trainer(), new_meta(), is_new=True)

    @contextmanager
    def view(self, sid: str) -> Iterator[Session | None]:
        """Read-only: the session as last saved, or None if there is none; never saved back
        and never created. Takes no lock: a saved session is one consistent hash."""
        _lock_key, data_key = self._keys(sid)
        with self._talking():
            blob, meta = self.client.hmget(data_key, ["trainer", "meta"])
        session = None
        if blob is not None and meta is not None and len(blob) <= self.max_bytes:
            try:
                meta = json.loads(meta)
                if valid_meta(meta):
                    session = Session(sid, Trainer.from_bytes(blob, max_bytes=self.max_bytes),
                                      meta)
            except (ValueError, KeyError, TypeError):
                session = None  # damaged or from another version: the tick replaces it
        yield session

    def get_pins(self, sid: str) -> str | None:
        """The session's pinned runs (JSON) or None: a field of the session's hash, so they
        expire and are evicted with it, and the tick's load never reads them."""
        _lock_key, data_key = self._keys(sid)
        with self._talking():
            text = self.client.hget(data_key, "pins")
        return None if text is None else text.decode("utf-8", "replace")

    def put_pins(self, sid: str, text: str) -> None:
        """Write the pins (call inside `store.session(sid, ...)`, which holds the lock)."""
        _lock_key, data_key = self._keys(sid)
        with self._talking():
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(data_key, "pins", text)
            pipe.pexpire(data_key, self.idle_ms)
            pipe.execute()

    def _data_key(self, sid: str) -> str:
        return f"{self.prefix}data:{sid}"

    def put_data(self, sid: str, spec: str) -> None:
        """Keep `spec` (the JSON of this session's own data set) in its own key, with the
        session's idle expiry (every commit refreshes it; eviction deletes it)."""
        _check_spec(spec, self.max_data_bytes)
        with self._talking():
            self.client.set(self._data_key(sid), spec.encode("utf-8"), px=self.idle_ms)

    def get_data(self, sid: str) -> str | None:
        """put_data's spec for this session, or None (none, expired, or not valid text)."""
        with self._talking():
            blob = self.client.get(self._data_key(sid))
        if blob is None or len(blob) > 4 * self.max_data_bytes:
            return None
        try:
            return blob.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def live_sessions(self) -> int:
        """How many sessions were used within the idle time (for tests and operators)."""
        with self._talking():
            return int(self.client.zcard(f"{self.prefix}live"))


# ----------------------------------------------------------------------------- factory
def store_from_env(environ=None):
    """RedisStore if MLPLAB_REDIS_URL is set, else MemoryStore; sized by the MLPLAB_* limits
    (limits.py: MLPLAB_MAX_SESSIONS, MLPLAB_SESSION_IDLE_SECONDS, MLPLAB_LOCK_*, ...)."""
    limits = LIMITS if environ is None else Limits.from_env(environ)
    environ = os.environ if environ is None else environ
    url = environ.get("MLPLAB_REDIS_URL")
    if url:
        try:
            return RedisStore(url, idle_seconds=limits.session_idle_seconds,
                              lock_timeout=limits.lock_wait_seconds,
                              lease_seconds=limits.lock_lease_seconds,
                              max_sessions=limits.max_sessions,
                              max_bytes=limits.max_session_bytes,
                              timeout=limits.redis_timeout_seconds,
                              max_data_bytes=2 * limits.max_upload_bytes + 64 * 1024)
        except ValueError as exc:  # redis-py's word for a malformed URL
            raise ValueError(f"MLPLAB_REDIS_URL is not a Redis URL ({exc}); "
                             "expected e.g. redis://127.0.0.1:6379/0") from None
    return MemoryStore(max_sessions=limits.max_sessions,
                       idle_seconds=limits.session_idle_seconds,
                       lock_timeout=limits.lock_wait_seconds,
                       max_data_bytes=2 * limits.max_upload_bytes + 64 * 1024)
