"""A unit of work never writes back into a shared cache what its session loaded before another unit's commit."""

from __future__ import annotations

import pytest

from pyramid_polydatum.stores import ChainedStore, MemoryStore, StoreError

from .conftest import _sql_env
from .models import Row


@pytest.fixture
def pg_env(request, registries):
    yield from _sql_env(request, registries, "postgresql")


@pytest.fixture(params=["memory", "redis"])
def shared(request):
    if request.param == "memory":
        return MemoryStore([Row])
    return request.getfixturevalue("redis_store_factory")([Row])


def test_an_identity_map_copy_loaded_before_a_commit_is_not_backfilled(pg_env, shared):
    chain = ChainedStore([shared, pg_env.store()], single_process=True)
    try:
        with pg_env.dm.context():
            chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
        with pg_env.dm.context():  # unit A
            first = chain.get(Row, 1)  # loaded into A's session (and cached); A keeps it, as a view would
            assert first.name == "v1"
            with pg_env.dm.context() as other:  # unit B commits v2 meanwhile: the cache is evicted
                other.db.writer.get(Row, 1).name = "v2"
            assert shared.get(Row, 1) is None
            chain.get(Row, {"tenant": 1, "slug": "a"})  # A misses the cache on another key
        with pg_env.dm.context():
            assert chain.get(Row, 1).name == "v2"
            assert chain.get(Row, {"tenant": 1, "slug": "a"}).name == "v2"
        cached = shared.get(Row, 1)
        assert cached is None or cached.name == "v2"
    finally:
        chain.close()


def test_a_memory_layer_over_sql_is_refused_unless_single_process(pg_env):
    with pytest.raises(StoreError, match="several processes"):
        ChainedStore([MemoryStore([Row]), pg_env.store()])
    ChainedStore([MemoryStore([Row]), pg_env.store()], single_process=True).close()
