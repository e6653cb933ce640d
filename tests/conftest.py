"""Fixtures shared by every test module: test databases on each backend, and a pool-leak check."""

from __future__ import annotations

import pytest

from tests import services


@pytest.fixture(scope="session")
def postgresql_database():
    reason = services.port_open(services.PG_HOST, services.PG_PORT)
    if reason:
        services.unavailable("PostgreSQL", reason)
    try:
        database = services.create_postgresql()
    except Exception as error:  # the reason is shown in the skip / failure
        services.unavailable("PostgreSQL", f"cannot create a test database: {error}")
    yield database
    services.drop_postgresql(database)


@pytest.fixture(scope="session")
def mysql_database():
    reason = services.port_open(services.MYSQL_HOST, services.MYSQL_PORT)
    if reason:
        services.unavailable("MariaDB", reason)
    try:
        database = services.create_mysql()
    except Exception as error:
        services.unavailable("MariaDB", f"cannot create a test database: {error}")
    yield database
    services.drop_mysql(database)


@pytest.fixture
def sqlite_database(tmp_path):
    return services.create_sqlite(str(tmp_path))


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database(request):
    """The same test on SQLite, PostgreSQL (psycopg 3) and MariaDB (PyMySQL)."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture
def registries():
    """Registries made by a test; afterwards every engine must have zero connections checked out."""
    made = []
    yield made
    leaks = {
        f"{registry!r}:{entry.name}": entry.engine.pool.checkedout()
        for registry in made
        for entry in registry
        if hasattr(entry.engine.pool, "checkedout") and entry.engine.pool.checkedout()
    }
    for registry in made:
        registry.dispose()
    assert not leaks, f"connections left checked out: {leaks}"
