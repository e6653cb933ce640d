"""Connections go back to their pool clean.

SQLAlchemy skips the pool's reset-on-return when the ``Connection`` believes it already ended its transaction.
After a COMMIT that failed (a deferred constraint on SQLite, for instance) the driver may still be inside that
transaction: the connection would return to the pool holding locks. A ``checkin`` listener asks the driver,
where it can tell cheaply and without a round trip, and rolls back what is still open.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .forksafe import ForeignConnection

log = logging.getLogger("pyramid_polydatum")

_SERVER_STATUS_IN_TRANS = 1  # the MySQL protocol's "a transaction is active" status flag


def install_checkin_rollback(engine: Engine) -> None:
    event.listen(engine, "checkin", _rollback_if_still_in_transaction)


def driver_in_transaction(dbapi_connection: Any) -> bool:
    """True when the DBAPI connection reports an open transaction (sqlite3, psycopg 3, psycopg2)."""
    in_transaction = getattr(dbapi_connection, "in_transaction", None)
    if isinstance(in_transaction, bool):  # sqlite3
        return in_transaction
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)  # psycopg 3: IDLE is 0
    if status is not None:
        return int(status) != 0
    get_status = getattr(dbapi_connection, "get_transaction_status", None)  # psycopg2: IDLE is 0
    if callable(get_status):
        return int(get_status()) != 0
    server_status = getattr(dbapi_connection, "server_status", None)  # PyMySQL / mysqlclient flags
    if isinstance(server_status, int):
        return bool(server_status & _SERVER_STATUS_IN_TRANS)
    return False


def _rollback_if_still_in_transaction(dbapi_connection: Any, connection_record: Any) -> None:
    if dbapi_connection is None or isinstance(dbapi_connection, ForeignConnection):
        return
    try:
        if driver_in_transaction(dbapi_connection):
            dbapi_connection.rollback()
    except Exception:
        log.warning("rolling back a connection returned inside a transaction failed", exc_info=True)
