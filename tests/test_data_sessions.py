"""Where an uploaded data set lives (issue 8): beside the session, out of the tick's path, in
memory or in Redis for every worker; it goes when its session goes."""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
from test_data_callbacks import GOOD, Tab

from dashboard.datasource import load_spec
from dashboard.sessions import MemoryStore, RedisStore
from mlpcore import Config, Trainer
from mlpcore.csvdata import csv_dataset


def test_two_workers_on_one_redis_share_the_uploaded_data(redis_server):
    first, second = RedisStore(redis_server), RedisStore(redis_server)  # as two workers
    tab = Tab(first)
    tab.tick(None)
    tab.use(GOOD, "colours.csv")
    assert load_spec(second.get_data(tab.session))["name"] == "colours.csv"
    # the other worker rebuilds the run from it: Reset, a split change, standardise
    tab.store = second
    tab.values.update(data="csv", split="fraction", train_fraction=0.5,
                      standardize=["standardize"])
    tab.restart("controls")
    trainer, meta = tab.run()
    expected = csv_dataset(GOOD, name="colours.csv", split="fraction", train_fraction=0.5,
                           standardize=True)
    np.testing.assert_array_equal(trainer.dataset.X_train, expected.X_train)
    assert meta["data"]["file"] == "colours.csv" and trainer.dataset.standardized
    tab.toggle()
    tab.store = first  # ticks go to either worker; the trainer's bytes carry the split
    tab.tick()
    assert tab.run()[0].iteration > 0


def test_the_tick_never_reads_the_data_and_the_meta_stays_small(redis_server):
    store = RedisStore(redis_server)
    tab = Tab(store)
    tab.tick(None)
    tab.use(GOOD * 1, "colours.csv")
    _lock, key = store._keys(tab.session)
    meta = store.client.hget(key, "meta")
    assert len(meta) < 400 and b"sepal" not in meta  # the CSV is not in the per-tick hash
    calls = []
    original = store.client.get
    store.client.get = lambda k, *a: calls.append(k) or original(k, *a)
    tab.values["data"] = "csv"
    tab.toggle()
    tab.tick()
    assert not [k for k in calls if b"data:" in (k if isinstance(k, bytes) else k.encode())]


def test_redis_data_expires_and_is_evicted_with_its_session(redis_server):
    store = RedisStore(redis_server, idle_seconds=0.6, max_sessions=1)
    sid = uuid.uuid4().hex
    store.put_data(sid, '{"kind": "csv"}')
    assert 0 < store.client.pttl(f"mlplab:data:{sid}") <= 600
    with store.session(sid, lambda: Trainer(Config.document())):
        pass
    time.sleep(0.3)
    with store.session(sid, lambda: Trainer(Config.document())):
        pass  # the commit refreshes the data's expiry with the session's
    assert store.client.pttl(f"mlplab:data:{sid}") > 400
    other = uuid.uuid4().hex
    with store.session(other, lambda: Trainer(Config.document())):
        pass  # max_sessions=1: the first session is evicted, its data with it
    assert store.get_data(sid) is None and store.get_data(other) is None
    store.put_data(other, "x")
    time.sleep(0.7)
    assert store.get_data(other) is None  # idle: gone


def test_memory_data_goes_with_its_session():
    store = MemoryStore(max_sessions=1)
    sid, other = uuid.uuid4().hex, uuid.uuid4().hex
    store.put_data(sid, "spec")
    assert store.get_data(sid) == "spec" and store.get_data(other) is None
    with store.session(other, lambda: Trainer(Config.document())):
        pass
    assert store.get_data(sid) is None
    with pytest.raises(ValueError):
        store.put_data(other, "x" * (store.max_data_bytes + 1))
    with pytest.raises(ValueError):
        store.put_data(other, b"bytes")
