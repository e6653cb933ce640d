"""Verbs that do what they say: deletes of missing rows, ambiguous keys, every write path evicts, typed keys."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from pyramid_polydatum.stores import (
    ChainedStore,
    JsonSerializer,
    MemoryStore,
    MultipleRowsError,
    StoreError,
)

from .models import Item, Loose, Row


def _count(ctx, cls):
    return ctx.db.writer.scalar(select(func.count()).select_from(cls))


def test_deleting_a_missing_row_deletes_nothing_and_creates_nothing(sql_env):
    store = sql_env.store()
    with sql_env.dm.context():
        assert store.delete(Row(id=99, tenant=1, slug="ghost")) is False
        assert store.batch_delete([Row(id=98, tenant=1, slug="g2")]) == 0
    with sql_env.dm.context() as ctx:
        assert _count(ctx, Row) == 0
        assert store.get(Row, 99) is None


def test_deleting_an_existing_row_says_so(sql_env):
    store = sql_env.store()
    with sql_env.dm.context():
        store.put(Row(id=1, tenant=1, slug="a"))
    with sql_env.dm.context():
        assert store.delete(Row(id=1, tenant=1, slug="a")) is True  # a detached copy, as a cache returns
    with sql_env.dm.context() as ctx:
        assert _count(ctx, Row) == 0


def test_delete_key_on_an_ambiguous_key_raises_like_get(sql_env):
    store = sql_env.store([Loose])
    with sql_env.dm.context():
        store.batch_put([Loose(id=1, code="dup"), Loose(id=2, code="dup")])
    with pytest.raises(MultipleRowsError), sql_env.dm.context():
        store.delete_key(Loose, {"code": "dup"})
    with sql_env.dm.context() as ctx:
        assert _count(ctx, Loose) == 2
        assert store.delete_key(Loose, {"code": "none"}) is False
        assert store.delete_key(Loose, 1) is True


@pytest.fixture
def cached(sql_env):
    memory = MemoryStore([Row])
    chain = ChainedStore([memory, sql_env.store()], single_process=True)
    with sql_env.dm.context():
        chain.put(Row(id=1, tenant=1, slug="a", name="v1"))
    with sql_env.dm.context():
        assert chain.get(Row, 1).name == "v1"
    assert memory.get(Row, 1) is not None
    yield sql_env, chain, memory
    chain.close()


def test_a_core_update_of_the_table_through_a_session_evicts(cached):
    env, chain, memory = cached
    with env.dm.context() as ctx:
        ctx.db.writer.execute(update(Row.__table__).values(name="core"))
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "core"


def test_an_orm_upsert_evicts(cached):
    env, chain, memory = cached
    if env.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    with env.dm.context() as ctx:
        statement = insert(Row).values(id=1, tenant=1, slug="a", name="upsert")
        ctx.db.writer.execute(statement.on_conflict_do_update(index_elements=["id"], set_={"name": "upsert"}))
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "upsert"


def test_typed_keys_in_a_chain_batch_get():
    top, bottom = MemoryStore([Item]), MemoryStore([Item])
    chain = ChainedStore([top, bottom])
    bottom.put(Item(id=1, tenant=1, slug="int"))
    bottom.put(Item(id=True, tenant=1, slug="bool"))
    bottom.put(Item(id=1.0, tenant=1, slug="float"))
    found = chain.batch_get(Item, [1, True, 1.0, 1])
    assert [o.slug for o in found] == ["int", "bool", "float", "int"]
    assert [chain.get(Item, k).slug for k in (1, True, 1.0)] == ["int", "bool", "float"]


def test_every_verb_of_a_chain_follows_the_same_registration(sql_env):
    # the memory layer was not told about Row: the chain registers it there (or refuses), for every verb alike
    chain = ChainedStore([MemoryStore([]), sql_env.store()], single_process=True)
    try:
        with sql_env.dm.context():
            chain.put(Row(id=1, tenant=1, slug="a"))
        with sql_env.dm.context():
            assert chain.get(Row, 1) is not None
            assert chain.batch_get(Row, [1]) != [None]
        with sql_env.dm.context():
            assert chain.delete_key(Row, 1) is True
    finally:
        chain.close()


def test_a_chain_refuses_a_class_one_layer_cannot_hold(sql_env):
    @dataclass
    class Plain:
        __store_keys__ = ["id"]
        id: int

    with pytest.raises(StoreError, match="Plain"):
        ChainedStore([MemoryStore([Plain]), sql_env.store()], single_process=True)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Tagged:
    __store_keys__ = ["id"]
    id: int
    level: Level = Level.LOW
    colour: Colour = Colour.RED


def test_the_json_serializer_keeps_enum_types():
    s = JsonSerializer([Tagged])
    back = s.loads(s.dumps(Tagged(id=1, level=Level.HIGH)))
    assert type(back.level) is Level and back.level is Level.HIGH
    assert back.colour is Colour.RED
    store = MemoryStore([Tagged])
    store.put(Tagged(id=2, level=Level.HIGH))
    assert store.get(Tagged, 2).level is Level.HIGH


def test_an_unregistered_enum_is_refused():
    class Other(enum.Enum):
        X = 1

    with pytest.raises(Exception, match="Other"):
        JsonSerializer().dumps({"v": Other.X})


def test_a_chain_says_whether_it_deleted(cached):
    env, chain, memory = cached
    with env.dm.context():
        assert chain.delete(Row(id=42, tenant=1, slug="none")) is False
        assert chain.delete_key(Row, {"tenant": 1, "slug": "none"}) is False
        assert chain.batch_delete([Row(id=1, tenant=1, slug="a"), Row(id=43, tenant=1, slug="x")]) == 1
    assert memory.get(Row, 1) is None  # evicted at the commit
    with env.dm.context() as ctx:
        assert _count(ctx, Row) == 0


def test_the_legacy_bulk_api_evicts(cached):
    env, chain, memory = cached
    with env.dm.context() as ctx:
        ctx.db.writer.bulk_update_mappings(Row, [{"id": 1, "name": "bulk mapping"}])
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "bulk mapping"
    with env.dm.context():
        chain.get(Row, 1)  # cached again
    with env.dm.context() as ctx:
        row = ctx.db.writer.get(Row, 1)
        ctx.db.writer.expunge(row)
        row.name = "saved"
        ctx.db.writer.bulk_save_objects([row])  # a detached row with its primary key: an UPDATE
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "saved"
    with env.dm.context() as ctx:
        ctx.db.writer.connection().execute(update(Row.__table__).values(name="on the connection"))
    assert memory.get(Row, 1) is None
    with env.dm.context():
        assert chain.get(Row, 1).name == "on the connection"


def test_a_flush_is_still_evicted_object_by_object(cached):
    env, chain, memory = cached
    with env.dm.context():
        chain.put(Row(id=2, tenant=1, slug="b", name="other"))
    with env.dm.context():
        chain.get(Row, 2)
    with env.dm.context() as ctx:
        ctx.db.writer.get(Row, 1).name = "flushed"
    assert memory.get(Row, 1) is None
    assert memory.get(Row, 2) is not None  # a flush forgets what it changed, not the class
