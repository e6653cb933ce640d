"""The walls that keep a read-only engine from writing, whatever SQL it is given.

1. Its sessions refuse to flush changes (and to commit) with ``ReadOnlySessionError``, before any SQL is sent.
2. The statement filter (``statements``) refuses, before they are sent, what could end or change the read-only
   transaction: several statements in one string, transaction control, ``SET TRANSACTION ...``, ``PRAGMA
   query_only``.
3. The database runs every transaction read-only: ``BEGIN READ ONLY`` with psycopg 3, ``SET TRANSACTION READ
   ONLY`` as the first statement of every transaction with other PostgreSQL drivers and MySQL/MariaDB.
4. The connection itself is read-only for its whole life where the dialect allows: on PostgreSQL the startup
   parameter ``options=-c default_transaction_read_only=on`` (merged into the driver's ``options``, the user's
   own kept), on MySQL/MariaDB ``SET SESSION TRANSACTION READ ONLY`` when it connects, on SQLite a file opened
   read-only (``mode=ro``, when the file exists as the reader connects) plus ``PRAGMA query_only``.
5. A reader connection whose read-only state changed never goes back to the pool: on checkin, PostgreSQL's
   reported ``default_transaction_read_only`` (psycopg keeps it from the server's ParameterStatus messages, no
   round trip) and SQLite's ``query_only`` (in process) are compared with their state at connect, and a changed
   connection is invalidated.

A role with SELECT-only grants is the recommended last wall; ``python -m pyramid_polydatum check`` reports a
reader whose role may write.

Nothing here depends on the reader running transactions: walls 2, 4 and 5 hold for an autocommit reader too.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .errors import ReadOnlySessionError
from .statements import statement_filter

log = logging.getLogger("pyramid_polydatum")

_READ_ONLY_TRANSACTION = {"postgresql", "mysql", "mariadb"}
_PG_READ_ONLY_OPTION = "-c default_transaction_read_only=on"
_PG_PARAMETER = "default_transaction_read_only"
_STATE_KEY = "polydatum_read_only_state"  # in the connection record's info: the state seen at connect


def guard_engine(engine: Engine, name: str = "read-only") -> None:
    """Make ``engine`` read-only at the database and refuse unsafe statements on it, where the dialect allows."""
    dialect, driver = engine.dialect.name, engine.dialect.driver
    event.listen(engine, "before_cursor_execute", statement_filter(name))
    if dialect == "postgresql":
        event.listen(engine, "do_connect", _pg_startup_read_only)
        event.listen(engine, "connect", _remember_pg_state)
        event.listen(engine, "checkin", _invalidate_if_pg_state_changed)
    if dialect == "postgresql" and driver == "psycopg":
        # psycopg 3 then opens each transaction with BEGIN READ ONLY: no extra round trip
        event.listen(engine, "connect", _psycopg_read_only)
        event.listen(engine, "begin", _refuse_autocommit)
    elif dialect in _READ_ONLY_TRANSACTION:
        event.listen(engine, "begin", _set_transaction_read_only)
    if dialect in ("mysql", "mariadb"):
        event.listen(engine, "connect", _mysql_session_read_only)
    elif dialect == "sqlite":
        event.listen(engine, "do_connect", _sqlite_open_read_only)
        event.listen(engine, "connect", _sqlite_query_only)
        event.listen(engine, "checkin", _invalidate_if_sqlite_writable)


def guard_sessionmaker(factory: Any, engine_name: str) -> None:
    """Sessions from ``factory`` refuse to flush changes or commit."""

    def refuse_flush(session: Any, flush_context: Any, instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            raise ReadOnlySessionError(
                f"the {engine_name!r} engine is read-only: refusing to flush "
                f"{len(session.new)} new, {len(session.dirty)} changed and {len(session.deleted)} deleted objects; "
                "use the writer session for writes"
            )

    def refuse_commit(session: Any) -> None:
        raise ReadOnlySessionError(f"the {engine_name!r} engine is read-only: its sessions never commit")

    event.listen(factory, "before_flush", refuse_flush)
    event.listen(factory, "before_commit", refuse_commit)


def is_autocommit(options: Any) -> bool:
    """True when ``options`` (engine options or execution options) ask for AUTOCOMMIT isolation."""
    if not options:
        return False
    level = options.get("isolation_level")
    nested = options.get("execution_options") or {}
    return str(level).upper() == "AUTOCOMMIT" or str(nested.get("isolation_level", "")).upper() == "AUTOCOMMIT"


# -- transactions -------------------------------------------------------------------------------------------

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


# -- PostgreSQL: the session default, and its check at checkin ----------------------------------------------

def _pg_startup_read_only(dialect: Any, connection_record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
    """Append ``-c default_transaction_read_only=on`` to the startup ``options`` (given last, it wins)."""
    existing = str(cparams.get("options") or "").strip()
    cparams["options"] = f"{existing} {_PG_READ_ONLY_OPTION}".strip()


def _pg_reported_state(dbapi_connection: Any) -> str | None:
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "parameter_status", None)  # psycopg 3
    if callable(status):
        value = status(_PG_PARAMETER)
    else:
        get_status = getattr(dbapi_connection, "get_parameter_status", None)  # psycopg2
        value = get_status(_PG_PARAMETER) if callable(get_status) else None
    if isinstance(value, bytes):
        value = value.decode()
    return value if isinstance(value, str) else None


def _remember_pg_state(dbapi_connection: Any, connection_record: Any) -> None:
    connection_record.info[_STATE_KEY] = _pg_reported_state(dbapi_connection)


def _invalidate_if_pg_state_changed(dbapi_connection: Any, connection_record: Any) -> None:
    if dbapi_connection is None:
        return
    at_connect = connection_record.info.get(_STATE_KEY)
    if at_connect is None:  # the server (or a pooler in front of it) does not report it: nothing to compare
        return
    now = _pg_reported_state(dbapi_connection)
    if now != at_connect:
        log.warning("a read-only connection came back with %s = %s (was %s): discarding it",
                    _PG_PARAMETER, now, at_connect)
        connection_record.invalidate()


# -- MySQL / MariaDB ----------------------------------------------------------------------------------------

def _mysql_session_read_only(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")
    finally:
        cursor.close()


# -- SQLite -------------------------------------------------------------------------------------------------

def _sqlite_open_read_only(dialect: Any, connection_record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
    """Open a database file with ``mode=ro``: SQLite itself then refuses every write, whatever the PRAGMAs."""
    if not cargs or not isinstance(cargs[0], str):
        return
    target = cargs[0]
    if cparams.get("uri"):
        base, _, query = target.partition("?")
        if not base.startswith("file:") or "mode=memory" in query or base in ("file:", "file::memory:"):
            return
        params = [p for p in query.split("&") if p and not p.startswith("mode=")]
        cargs[0] = base + "?" + "&".join([*params, "mode=ro"])
    elif target and target != ":memory:" and os.path.exists(target):
        # a file that does not exist yet cannot be opened read-only; query_only still holds for that connection
        cargs[0] = "file:" + urllib.parse.quote(target, safe="/:") + "?mode=ro"
        cparams["uri"] = True


def _sqlite_query_only(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


def _invalidate_if_sqlite_writable(dbapi_connection: Any, connection_record: Any) -> None:
    if dbapi_connection is None:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            query_only = cursor.execute("PRAGMA query_only").fetchone()[0]
        finally:
            cursor.close()
    except Exception:  # noqa: BLE001 - a connection that cannot answer is not returned either
        query_only = 0
    if not query_only:
        log.warning("a read-only SQLite connection came back with query_only off: discarding it")
        connection_record.invalidate()
