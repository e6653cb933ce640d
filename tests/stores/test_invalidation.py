"""Caches never serve what the database does not hold: commit-time eviction, rollback, bulk and plain writes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from pyramid_polydatum.stores import ChainedStore, ContextLayer, MemoryStore

from .models import Item, Row


class Boom(Exception):
    pass


@pytest.fixture
def layered(sql_env):
    """A per-context layer, a shared memory cache and the database."""
    memory = MemoryStore([Row])
    chain = ChainedStore(
        [ContextLayer(sql_env.dm, "store_cache", [Row]), memory, sql_env.store()], single_process=True
    )
    with sql_env.dm.context():
        chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
    with sql_env.dm.context():
        assert chain.get(Row, 1).name == "v1"  # warms the shared cache
        assert chain.get(Row, {"tenant": 1, "slug": "a"}) is not None
    assert memory.get(Row, 1).name == "v1"
    yield sql_env, chain, memory
    chain.close()


def test_uncommitted_writes_never_reach_the_shared_cache(sql_env):
    memory = MemoryStore([Row])
    chain = ChainedStore(
        [ContextLayer(sql_env.dm, "store_cache", [Row]), memory, sql_env.store()], single_process=True
    )
    try:
        with sql_env.dm.context():
            chain.put(Row(id=5, tenant=1, slug="e", name="pending"))
            assert chain.get(Row, 5).name == "pending"  # the unit of work reads its own write
            assert len(memory) == 0
        with sql_env.dm.context():
            assert chain.get(Row, 5).name == "pending"
        assert memory.get(Row, 5).name == "pending"
    finally:
        chain.close()


def test_a_rolled_back_unit_of_work_leaves_the_cache_as_it_was(layered):
    env, chain, memory = layered
    before = len(memory)
    with pytest.raises(Boom), env.dm.context():
        row = chain.get(Row, 1)
        row.name = "v2"
        row.slug = "changed"
        chain.put(row)
        raise Boom
    assert len(memory) == before
    assert memory.get(Row, 1).name == "v1"
    assert memory.get(Row, {"tenant": 1, "slug": "a"}) is not None
    with env.dm.context():
        assert chain.get(Row, 1).name == "v1"


def test_a_commit_evicts_the_old_and_new_keys(layered):
    env, chain, memory = layered
    with env.dm.context():
        row = chain.get(Row, 1)
        row.slug = "b"
        chain.put(row)
        assert memory.get(Row, {"tenant": 1, "slug": "a"}) is not None  # not before the commit
    assert memory.get(Row, 1) is None
    assert memory.get(Row, {"tenant": 1, "slug": "a"}) is None
    with env.dm.context():
        assert chain.get(Row, {"tenant": 1, "slug": "a"}) is None
        assert chain.get(Row, {"tenant": 1, "slug": "b"}).id == 1


def test_writes_through_a_plain_session_are_caught(layered):
    env, chain, memory = layered
    with env.dm.context() as ctx:
        ctx.db.writer.get(Row, 1).name = "plain"
    with env.dm.context():
        assert chain.get(Row, 1).name == "plain"
    with env.dm.context() as ctx:
        ctx.db.writer.delete(ctx.db.writer.get(Row, 1))
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, {"tenant": 1, "slug": "a"}) is None


def test_a_bulk_update_forgets_the_class(layered):
    env, chain, _memory = layered
    with env.dm.context() as ctx:
        ctx.db.writer.execute(update(Row).where(Row.tenant == 1).values(name="bulk"))
    with env.dm.context():
        assert chain.get(Row, 1).name == "bulk"
        assert chain.get(Row, {"tenant": 1, "slug": "a"}).name == "bulk"


def test_a_bulk_delete_forgets_the_class(layered):
    env, chain, _memory = layered
    with env.dm.context() as ctx:
        ctx.db.writer.execute(delete(Row))
    with env.dm.context():
        assert chain.get(Row, 1) is None


def test_a_rolled_back_bulk_update_changes_nothing(layered):
    env, _chain, memory = layered
    with pytest.raises(Boom), env.dm.context() as ctx:
        ctx.db.writer.execute(update(Row).values(name="bulk"))
        raise Boom
    assert memory.get(Row, 1).name == "v1"


def test_reads_inside_a_writing_unit_do_not_backfill_shared_caches(sql_env):
    memory = MemoryStore([Row])
    chain = ChainedStore([memory, sql_env.store()], single_process=True)
    try:
        with pytest.raises(Boom), sql_env.dm.context() as ctx:
            ctx.db.writer.add(Row(id=9, tenant=9, slug="x", name="uncommitted"))
            ctx.db.writer.flush()
            assert chain.get(Row, 9).name == "uncommitted"
            raise Boom
        assert len(memory) == 0
    finally:
        chain.close()


def test_caches_over_a_cache_are_written_through():
    top, bottom = MemoryStore([Item]), MemoryStore([Item])
    chain = ChainedStore([top, bottom])
    chain.put(Item(id=1, tenant=1, slug="a"))
    assert top.get(Item, 1) is not None and bottom.get(Item, 1) is not None
    assert chain.invalidator is None


def test_joined_sessions_evict_when_the_outer_transaction_commits(layered):
    import transaction

    env, chain, memory = layered
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    with env.dm.context({"transaction_manager": manager}) as ctx:
        ctx.db.writer.get(Row, 1).name = "outer"
    assert memory.get(Row, 1).name == "v1"  # the context ended, the transaction did not
    manager.commit()
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "outer"


def test_an_aborted_outer_transaction_leaves_the_cache(layered):
    import transaction

    env, _chain, memory = layered
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    with env.dm.context({"transaction_manager": manager}) as ctx:
        ctx.db.writer.get(Row, 1).name = "outer"
    manager.abort()
    assert memory.get(Row, 1).name == "v1"


def test_a_redis_layer_is_evicted_too(sql_env, redis_store_factory):
    redis_store = redis_store_factory([Row])
    chain = ChainedStore([MemoryStore([Row]), redis_store, sql_env.store()], single_process=True)
    try:
        with sql_env.dm.context():
            chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
        with sql_env.dm.context():
            assert chain.get(Row, 1).name == "v1"
        assert redis_store.get(Row, 1).name == "v1"
        with sql_env.dm.context() as ctx:
            ctx.db.writer.execute(update(Row).values(name="bulk"))
        assert redis_store.get(Row, 1) is None
        with sql_env.dm.context():
            assert chain.get(Row, {"slug": "a", "tenant": 1}).name == "bulk"
    finally:
        chain.close()


def test_a_read_racing_a_commit_does_not_backfill(layered):
    env, chain, memory = layered
    memory.clear()
    persistent = chain.persistent
    original = persistent.read

    def read_then_another_request_commits(cls, keys):
        found = original(cls, keys)  # the old row
        chain.invalidator.evict([(Row, [{"id": 1}])])  # a commit elsewhere, after the read, before the backfill
        return found

    persistent.read = read_then_another_request_commits
    with env.dm.context():
        assert chain.get(Row, 1) is not None
    assert len(memory) == 0


def test_a_bulk_update_inside_the_unit_forgets_its_own_layer(layered):
    env, chain, _memory = layered
    with env.dm.context() as ctx:
        assert chain.get(Row, 1).name == "v1"  # a cached copy, now in this unit's own layer too
        ctx.db.writer.execute(update(Row).where(Row.id == 1).values(name="bulk"))
        assert chain.get(Row, 1).name == "bulk"


def test_without_a_registry_every_session_is_watched(sql_env):
    memory = MemoryStore([Row])
    chain = ChainedStore([memory, sql_env.store(watch_every_session=True)], single_process=True)
    try:
        with sql_env.dm.context():
            chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
        with sql_env.dm.context():
            assert chain.get(Row, 1).name == "v1"
        assert memory.get(Row, 1) is not None
        with sql_env.dm.context() as ctx:
            ctx.db.writer.get(Row, 1).name = "v2"
        assert memory.get(Row, 1) is None
    finally:
        chain.close()
