"""Redis under faults (a private redis-server killed, hung with SIGSTOP, restarted from its RDB file).

Each test counts the stale reads a reader can make: a value the database no longer holds.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text, update

from pyramid_polydatum.stores import ChainedStore, RedisStore

from .conftest import _sql_env
from .models import Row

N = 20


@pytest.fixture
def pg_env(request, registries):
    yield from _sql_env(request, registries, "postgresql")


def _chain(env, redis_store, **options):
    chain = ChainedStore([redis_store, env.store()], **options)
    env.closers.append(chain.close)
    return chain


def _warm(env, chain, n=N, name="v1"):
    with env.dm.context():
        chain.batch_put([Row(id=i, tenant=1, slug=f"s{i}", name=name) for i in range(n)])
    with env.dm.context():
        assert [r.name for r in chain.batch_get(Row, list(range(n)))] == [name] * n


def _commit_v2(env, n=N):
    with env.dm.context() as ctx:
        for i in range(n):
            ctx.db.writer.get(Row, i).name = "v2"


def _stale(store, n=N):
    """Reads through a store of another process (its own client, nothing queued): how many are v1."""
    return sum(1 for i in range(n) if (found := store.get(Row, i)) is not None and found.name == "v1")


def _redis(server, **options):
    options.setdefault("socket_timeout", 0.2)
    store = RedisStore(url=server.url, classes=[Row], **options)
    return store


def test_commits_while_redis_is_down_are_served_at_most_stale_after(pg_env, private_redis):
    chain = _chain(pg_env, _redis(private_redis, cooldown=60), stale_after=2)
    _warm(pg_env, chain)
    private_redis.save()
    private_redis.kill()
    _commit_v2(pg_env)  # the evictions fail: Redis is down
    committed = time.time()
    private_redis.restart()  # from the RDB file: the v1 entries are back
    other = _redis(private_redis)  # another process: it knows nothing of the failed evictions
    with pg_env.dm.context():
        assert {r.name for r in chain.batch_get(Row, list(range(N)))} == {"v2"}  # the breaker: SQL
    time.sleep(max(0.0, committed + 2 + 0.1 - time.time()))
    assert _stale(other) == 0  # no entry outlives stale_after, also across a restart


def test_failed_evictions_are_retried_first_when_redis_is_back(pg_env, private_redis):
    store = _redis(private_redis, cooldown=0.3)
    chain = _chain(pg_env, store, stale_after=60)
    _warm(pg_env, chain)
    private_redis.save()
    private_redis.kill()
    _commit_v2(pg_env)
    assert store.failed_evictions >= 1
    private_redis.restart()
    other = _redis(private_redis)
    time.sleep(0.4)  # the cool-down ends
    with pg_env.dm.context():
        assert [r.name for r in chain.batch_get(Row, list(range(N)))] == ["v2"] * N
    assert _stale(other) == 0  # the queued evictions ran before that read


def test_a_hung_redis_costs_one_timeout_per_cooldown(pg_env, private_redis):
    store = _redis(private_redis, socket_timeout=0.3, cooldown=2.0)  # longer than the reads below take
    chain = _chain(pg_env, store)
    _warm(pg_env, chain, n=5)
    private_redis.hang()
    try:
        for _ in range(10):
            with pg_env.dm.context():
                assert chain.get(Row, 1).name == "v1"  # through to SQL
        assert store.errors == 1  # one timeout, then the breaker held every read off Redis
        _commit_v2(pg_env, n=5)  # evictions while hung: queued, no waiting
        assert store.errors == 1
    finally:
        private_redis.resume()
    time.sleep(2.1)
    with pg_env.dm.context():
        assert chain.get(Row, 1).name == "v2"
    assert store.errors == 1
    assert _stale(_redis(private_redis), n=5) == 0


def test_a_backfill_cannot_overwrite_a_newer_eviction_from_another_process(pg_env, private_redis):
    store = _redis(private_redis)
    chain = _chain(pg_env, store)
    with pg_env.dm.context():
        chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
    other = _redis(private_redis)  # another process's store on the same Redis
    engine = create_engine(pg_env.registry.writer.engine.url)
    persistent = chain.persistent
    original = {name: getattr(persistent, name) for name in ("read", "batch_get") if hasattr(persistent, name)}

    def read_then_another_process_commits(original_method):
        def wrapper(cls, keys):
            found = original_method(cls, keys)  # v1, read before the other process's commit
            with engine.begin() as conn:  # the other process commits v2 and evicts Redis, after this read
                conn.execute(text("UPDATE store_row SET name = 'v2' WHERE id = 1"))
            other.evict(Row, [{"id": 1, "tenant": 1, "slug": "a"}])
            return found

        return wrapper

    try:
        for name, method in original.items():
            setattr(persistent, name, read_then_another_process_commits(method))
        with pg_env.dm.context():
            chain.get(Row, 1)
    finally:
        for name in original:
            delattr(persistent, name)
        engine.dispose()
    assert _stale(other, n=2) == 0
    with pg_env.dm.context():
        assert chain.get(Row, 1).name == "v2"


def test_losing_the_generation_never_resurrects_entries(pg_env, redis_store_factory):
    store = redis_store_factory([Row])
    chain = _chain(pg_env, store)
    _warm(pg_env, chain, n=40)
    with pg_env.dm.context() as ctx:
        ctx.db.writer.execute(update(Row).values(name="bulk"))
    for key in list(store.client.scan_iter(match=f"{store.prefix}*")):
        if b"gen:" in key or b":state:" in key:  # an allkeys-* eviction policy, a failover
            store.client.delete(key)
    with pg_env.dm.context():
        names = [r.name for r in chain.batch_get(Row, list(range(40)))]
    assert names.count("v1") == 0


def test_batch_put_and_batch_delete_cost_the_same_round_trips_whatever_n(redis_store_factory, monkeypatch):
    import redis.connection

    from .models import Item

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    store = redis_store_factory([Item])
    store.put(Item(id=-1, tenant=0, slug="warm"))  # scripts loaded, connection open
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    costs = {}
    for n in (1, 100):
        items = [Item(id=n * 1000 + i, tenant=n, slug=f"s{i}") for i in range(n)]
        sent.clear()
        store.batch_put(items)
        put = len(sent)
        sent.clear()
        store.batch_delete(items)
        costs[n] = (put, len(sent))
    assert costs[1] == costs[100]
    assert costs[100][0] <= 2 and costs[100][1] <= 2


def test_every_entry_over_sql_has_a_finite_lifetime(pg_env, redis_store_factory):
    store = redis_store_factory([Row])  # no ttl of its own
    chain = _chain(pg_env, store, stale_after=30)
    _warm(pg_env, chain, n=3)
    entries = [k for k in store.client.scan_iter(match=f"{store.prefix}*") if b":state:" not in k]
    assert len(entries) == 6
    assert all(0 < store.client.pttl(k) <= 30_000 for k in entries)


def test_too_many_failed_evictions_forget_every_class_when_redis_is_back(pg_env, private_redis):
    store = _redis(private_redis, cooldown=0.2, max_pending=2)
    chain = _chain(pg_env, store)
    _warm(pg_env, chain, n=5)
    private_redis.save()
    private_redis.kill()
    for i in range(5):  # five commits, five failed evictions: more than the queue holds
        with pg_env.dm.context() as ctx:
            ctx.db.writer.get(Row, i).name = "v2"
    private_redis.restart()
    time.sleep(0.3)
    with pg_env.dm.context():
        assert chain.get(Row, 0).name == "v2"  # the queue overflowed: the whole class was forgotten first
    assert _stale(_redis(private_redis), n=5) == 0
