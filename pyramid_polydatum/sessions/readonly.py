"""Two walls that keep a read-only engine from writing.

1. Its sessions refuse to flush changes (and to commit) with ``ReadOnlySessionError``, before any SQL is sent.
2. The database itself runs each transaction read-only where it can: ``BEGIN READ ONLY`` with psycopg 3,
   ``SET TRANSACTION READ ONLY`` as the first statement of every transaction with other PostgreSQL drivers and
   MySQL/MariaDB (transaction-scoped, so nothing leaks into a pooled connection's later use, nor through a
   pooler), and ``PRAGMA query_only`` on SQLite connections (which belong to this engine's pool alone). Even raw
   ``text()`` SQL cannot write then.

A role with SELECT-only grants is the recommended third wall; it is configuration, not code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from .errors import ReadOnlySessionError

_READ_ONLY_TRANSACTION = {"postgresql", "mysql", "mariadb"}


def guard_engine(engine: Engine) -> None:
    """Make every transaction of ``engine`` read-only at the database, where the dialect allows it."""
    dialect = engine.dialect.name
    if dialect == "postgresql" and engine.dialect.driver == "psycopg":
        # psycopg 3 then opens each transaction with BEGIN READ ONLY: no extra round trip, and nothing that
        # outlives the transaction (unlike a session-level default, which a pooler could hand to someone else)
        event.listen(engine, "connect", _psycopg_read_only)
        event.listen(engine, "begin", _refuse_autocommit)
    elif dialect in _READ_ONLY_TRANSACTION:
        event.listen(engine, "begin", _set_transaction_read_only)
    elif dialect == "sqlite":
        event.listen(engine, "connect", _sqlite_query_only)


def guard_sessionmaker(factory: sessionmaker[Session], engine_name: str) -> None:
    """Sessions from ``factory`` refuse to flush changes or commit."""

    def refuse_flush(session: Session, flush_context: Any, instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            raise ReadOnlySessionError(
                f"the {engine_name!r} engine is read-only: refusing to flush "
                f"{len(session.new)} new, {len(session.dirty)} changed and {len(session.deleted)} deleted objects; "
                "use the writer session for writes"
            )

    def refuse_commit(session: Session) -> None:
        raise ReadOnlySessionError(f"the {engine_name!r} engine is read-only: its sessions never commit")

    event.listen(factory, "before_flush", refuse_flush)
    event.listen(factory, "before_commit", refuse_commit)


def _refuse_autocommit(connection: Connection) -> None:
    if is_autocommit(connection.get_execution_options()):
        raise ReadOnlySessionError(
            "a read-only engine cannot run in AUTOCOMMIT mode: there is no transaction to make read-only"
        )


def _set_transaction_read_only(connection: Connection) -> None:
    _refuse_autocommit(connection)
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _psycopg_read_only(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.read_only = True


def is_autocommit(options: Any) -> bool:
    """True when ``options`` (engine options or execution options) ask for AUTOCOMMIT isolation."""
    if not options:
        return False
    level = options.get("isolation_level")
    nested = options.get("execution_options") or {}
    return str(level).upper() == "AUTOCOMMIT" or str(nested.get("isolation_level", "")).upper() == "AUTOCOMMIT"


def _sqlite_query_only(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()
