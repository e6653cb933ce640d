"""What each context did with each engine: statements, SQL time and the transaction's outcome.

Counting is off until ``EngineRegistry.enable_statistics()`` (the debug toolbar panel turns it on): then one pair of
cursor listeners per engine looks up the counter of the session that began the connection's transaction. The
outcome is always kept; it costs a dictionary write per transaction.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, NamedTuple

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

USAGE_KEY = "pyramid_polydatum.usage"
OUTCOME_KEY = "pyramid_polydatum.outcome"
_STARTED_KEY = "pyramid_polydatum.started"


class EngineUsage(NamedTuple):
    """One engine as used by one context: plain data, safe to keep after the context ended (a tuple: one is made
    per engine per context)."""

    name: str
    role: str
    statements: int | None
    sql_seconds: float | None
    outcome: str


class UsageCounter:
    """Mutable counts of one session; the connections it touched are remembered only to unbind them."""

    __slots__ = ("infos", "seconds", "statements")

    def __init__(self) -> None:
        self.statements = 0
        self.seconds = 0.0
        self.infos: list[dict[Any, Any]] = []

    def unbind(self) -> None:
        for info in self.infos:
            if info.get(USAGE_KEY) is self:
                del info[USAGE_KEY]
        self.infos.clear()


def count_statements_of(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "handle_error", _handle_error)


def bind_counters_of(factory: sessionmaker[Session]) -> None:
    """Sessions from ``factory`` that carry a counter attach it to each connection they begin."""
    event.listen(factory, "after_begin", _bind_counter)


def set_outcome(session: Session, outcome: str) -> None:
    session.info[OUTCOME_KEY] = outcome


def _bind_counter(session: Session, transaction: Any, connection: Any) -> None:
    counter = session.info.get(USAGE_KEY)
    if counter is not None:
        info = connection.info
        info[USAGE_KEY] = counter
        counter.infos.append(info)


def _before_cursor_execute(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, many: Any) -> None:
    if USAGE_KEY in conn.info:
        conn.info.setdefault(_STARTED_KEY, []).append(perf_counter())


def _after_cursor_execute(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, many: Any) -> None:
    counter = conn.info.get(USAGE_KEY)
    started = conn.info.get(_STARTED_KEY)
    if counter is not None and started:
        counter.statements += 1
        counter.seconds += perf_counter() - started.pop()


def _handle_error(exception_context: Any) -> None:
    conn = exception_context.connection
    if conn is None:
        return
    started = conn.info.get(_STARTED_KEY)
    counter = conn.info.get(USAGE_KEY)
    if counter is not None and started:
        counter.statements += 1
        counter.seconds += perf_counter() - started.pop()
