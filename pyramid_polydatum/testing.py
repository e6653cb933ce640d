"""Helpers for the tests of applications built on pyramid_polydatum.

``rolled_back(engines)`` runs a test against real databases and leaves no trace: every writable engine's sessions
are bound to one connection inside an outer transaction, and what the app commits (through ``transaction``, the
logger's own commit, or ``session.commit()``) only releases a SAVEPOINT inside it. At the end the outer transaction
rolls back. Read-only engines keep their own connections and roles, so a test still proves the reader cannot write
(it then does not see the test's uncommitted rows: read them through the writer, or ``ctx.db.any``).

Typical pytest fixture::

    @pytest.fixture
    def app(wsgi_app):
        with rolled_back(get_engines(wsgi_app.registry)):
            yield webtest.TestApp(wsgi_app)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy.engine import Connection

from .sessions.registry import EngineRegistry


@contextmanager
def rolled_back(engines: EngineRegistry) -> Iterator[EngineRegistry]:
    """Bind every writable engine to one connection in a transaction that is rolled back afterwards."""
    with ExitStack() as stack:
        shared: dict[object, Connection] = {}  # engines on one database share one connection: they see each other
        for entry in engines:
            if entry.is_readonly:
                continue
            connection = shared.get(entry.engine.url)
            if connection is None:
                connection = shared[entry.engine.url] = stack.enter_context(entry.engine.connect())
                stack.callback(connection.begin().rollback)
                if connection.dialect.name == "sqlite":
                    # pysqlite begins transactions lazily, so a SAVEPOINT would start (and RELEASE commit) the
                    # outermost transaction: begin it explicitly
                    connection.exec_driver_sql("BEGIN")
            stack.callback(_restore, entry.sessionmaker.kw, dict(entry.sessionmaker.kw))
            entry.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
        yield engines


def _restore(current: dict[str, object], original: dict[str, object]) -> None:
    current.clear()
    current.update(original)
