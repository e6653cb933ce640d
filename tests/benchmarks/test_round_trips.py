"""Round trips per request, counted at the wire through the benchmarks' PostgreSQL proxy: exact figures."""

from __future__ import annotations

import pytest

from benchmarks import apps, roundtrips
from benchmarks.proxy import CountingProxy


@pytest.fixture
def schema(postgresql_database):
    apps.create_schema(postgresql_database.writer_url, rows=5)
    return postgresql_database


def test_the_proxy_counts_the_queries_a_client_waits_on(schema):
    from sqlalchemy import create_engine, text

    with CountingProxy(("127.0.0.1", 5432)) as proxy:
        engine = create_engine(roundtrips.through(proxy, schema.writer_url))
        with engine.connect() as conn:
            proxy.reset()
            conn.execute(text("SELECT 1"))  # BEGIN (psycopg sends it apart), then the SELECT
            conn.execute(text("SELECT :x"), {"x": 2})  # extended protocol: one Sync
            conn.rollback()
        engine.dispose()
        assert proxy.round_trips == 4
        assert proxy.connections == 1


def test_round_trips_per_route(schema):
    """Today's figures (issue: fewer round trips): a read pays BEGIN, SELECT, ROLLBACK; read then insert uses the
    reader's connection and then the writer's."""
    ours = roundtrips.count(schema.writer_url, schema.reader_url, apps.polydatum_app)
    cookiecutter = roundtrips.count(schema.writer_url, schema.reader_url, apps.cookiecutter_app)
    assert ours == {"untouched": 0, "read": 3, "write": 3, "mixed": 6}
    assert cookiecutter == {"untouched": 0, "read": 3, "write": 3, "mixed": 4}
