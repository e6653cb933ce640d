"""SQLAlchemyStore on SQLite and PostgreSQL: sessions of the context, flush never commit, ambiguous keys."""

from __future__ import annotations

import pytest

from pyramid_polydatum.stores import MultipleRowsError, StoreError

from .models import Loose, Row, Truck, Vehicle


class Boom(Exception):
    pass


def test_put_flushes_but_the_unit_of_work_commits(sql_env):
    store = sql_env.store()
    with pytest.raises(Boom), sql_env.dm.context() as ctx:
        store.put(Row(id=1, tenant=1, slug="a"))
        assert ctx.db.writer.info  # the writer was used
        raise Boom
    with sql_env.dm.context():
        assert store.get(Row, 1) is None


def test_an_ambiguous_alternate_key_is_a_clear_error(sql_env):
    store = sql_env.store([Loose])
    with sql_env.dm.context():
        store.batch_put([Loose(id=1, code="dup"), Loose(id=2, code="dup")])
    with sql_env.dm.context():
        with pytest.raises(MultipleRowsError, match="several rows"):
            store.get(Loose, {"code": "dup"})
        with pytest.raises(MultipleRowsError):
            store.batch_get(Loose, [{"code": "dup"}])


def test_a_subclass_row_is_found_as_its_base(sql_env):
    store = sql_env.store([Vehicle, Truck])
    with sql_env.dm.context():
        store.put(Truck(id=1, load=5))
    with sql_env.dm.context():
        found = store.get(Vehicle, 1)
        assert isinstance(found, Truck) and found.load == 5
        store.delete(found)
    with sql_env.dm.context():
        assert store.get(Vehicle, 1) is None and store.get(Truck, 1) is None


def test_compound_batch_get(sql_env):
    store = sql_env.store()
    with sql_env.dm.context():
        store.batch_put([Row(id=i, tenant=1, slug=f"s{i}") for i in range(5)])
    with sql_env.dm.context():
        found = store.batch_get(Row, [{"tenant": 1, "slug": "s3"}, 4, {"slug": "s0", "tenant": 1}, 99])
        assert [o.id if o else None for o in found] == [3, 4, 0, None]


def test_outside_a_context_is_an_error(sql_env):
    with pytest.raises(Exception, match="context"):
        sql_env.store().get(Row, 1)


def test_only_mapped_classes(sql_env):
    class Plain:
        __store_keys__ = ["id"]

    with pytest.raises(StoreError):
        sql_env.store([Plain])
