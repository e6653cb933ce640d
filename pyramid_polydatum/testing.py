"""Helpers for the tests of applications built on pyramid_polydatum.

``rolled_back(engines)`` runs a test against real databases and leaves no trace: every engine's sessions are bound
to one connection per database inside an outer transaction, and what the app commits (through ``transaction``, the
logger's own commit, or ``session.commit()``) only releases a SAVEPOINT inside it. At the end the outer transaction
rolls back. A read-only engine on the same database reads through that connection too, so a request that reads
what an earlier request of the test wrote finds it (a POST, then a GET served by the reader); its sessions still
refuse to flush. ``rolled_back(engines, share_readers=False)`` keeps readers on their own connections and roles
instead, for tests that prove the database refuses the reader's writes (they then do not see the test's rows).

Typical pytest fixture::

    @pytest.fixture
    def app(wsgi_app):
        with rolled_back(get_engines(wsgi_app.registry)):
            yield webtest.TestApp(wsgi_app)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy.engine import URL, Connection

from .sessions.registry import EngineRegistry


@contextmanager
def rolled_back(engines: EngineRegistry, *, share_readers: bool = True) -> Iterator[EngineRegistry]:
    """Bind every engine to one connection per database, in a transaction that is rolled back afterwards."""
    with ExitStack() as stack:
        shared: dict[object, Connection] = {}  # engines on one database share one connection: they see each other
        for entry in sorted(engines, key=lambda e: e.is_readonly):  # writable engines open the connections
            if entry.is_readonly:
                connection = shared.get(_database_of(entry.engine.url))
                if connection is None or not share_readers:
                    continue
                stack.callback(_restore, entry.sessionmaker.kw, dict(entry.sessionmaker.kw))
                entry.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
                continue
            key = _database_of(entry.engine.url)
            connection = shared.get(key)
            if connection is None:
                connection = shared[key] = stack.enter_context(entry.engine.connect())
                stack.callback(connection.begin().rollback)
                if connection.dialect.name == "sqlite":
                    # pysqlite begins transactions lazily, so a SAVEPOINT would start (and RELEASE commit) the
                    # outermost transaction: begin it explicitly
                    connection.exec_driver_sql("BEGIN")
            stack.callback(_restore, entry.sessionmaker.kw, dict(entry.sessionmaker.kw))
            entry.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
        yield engines


def _database_of(url: URL) -> tuple[object, ...]:
    """What makes two URLs the same database, whatever role or options they connect with."""
    database = url.database or ""
    if url.get_backend_name() == "sqlite":
        database = database.removeprefix("file:").split("?", 1)[0]
    return (url.get_backend_name(), url.host, url.port, database)


def _restore(current: dict[str, object], original: dict[str, object]) -> None:
    current.clear()
    current.update(original)
