"""Plain-data snapshots of a request's data context and of the app's engines, for the debug toolbar panel.

Everything here is strings, numbers and tuples: the toolbar keeps panels in its history, and a snapshot must keep
no context, session, connection or request alive. Meta values are shown as truncated reprs; URLs with the
password masked (SQLite URLs as the file's path). The wording is made here, once, so that the page reads as
sentences: "pool size 5: 1 in use, 4 idle", "after OverflowError: reader rolled back, writer aborted".
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.engine import Engine

from ..core.meta import safe_repr
from ..core.record import StepRecord
from ..sessions.registry import EngineRegistry, is_secret_name, masked_url

META_REPR_LIMIT = 200


def snapshot_context(context: Any) -> dict[str, Any]:
    """The record of ``context`` (None: the request never touched the data layer)."""
    if context is None:
        return {"created": False}
    record = context.record
    usage: dict[str, dict[str, Any]] = {}
    for step in record.resources:
        for engine in (step.details or {}).get("engines", ()):
            usage[engine.name] = {
                "statements": engine.statements,
                "sql_ms": None if engine.sql_seconds is None else engine.sql_seconds * 1000,
                "outcome": engine.outcome,
            }
    return {
        "created": True,
        "state": record.state,
        "error": str(record.error) if record.error else None,
        "meta": [(str(key)[:80], safe_repr(value, META_REPR_LIMIT)) for key, value in _meta_items(context)],
        "resources": [_step(step) for step in record.resources],
        "middleware": [_step(step) for step in record.middleware],
        "usage": usage,
        "statements": _total_statements(usage),
    }


def _total_statements(usage: dict[str, dict[str, Any]]) -> int | None:
    """Every statement the context's sessions ran, those run while it ended included; None when not counted."""
    counts = [u["statements"] for u in usage.values() if u["statements"] is not None]
    return sum(counts) if counts else None


def _meta_items(context: Any) -> list[tuple[Any, Any]]:
    """Meta items without computing lazy values: showing the page must not run a security policy."""
    return list(context.meta._values.items())


def _step(step: StepRecord) -> dict[str, Any]:
    return {
        "name": step.name,
        "setup_ms": None if step.setup_seconds is None else step.setup_seconds * 1000,
        "teardown_ms": None if step.teardown_seconds is None else step.teardown_seconds * 1000,
        "outcome": describe_outcome(step),
        "received_error": str(step.received_error) if step.received_error else None,
    }


def describe_outcome(step: StepRecord) -> str:
    """What the step did, in words: never a bare "ok" when the context's error was thrown into it.

    A resource that reports its engines (the sessions) says what each transaction did; any other step says it
    ended, and after which error.
    """
    if step.setup_error is not None:
        return f"setup failed: {step.setup_error}"
    if step.teardown_seconds is None:
        return "still active"
    after = f"after {step.received_error.type_name}" if step.received_error is not None else ""
    if step.teardown_error is not None:
        return f"teardown failed{' ' + after if after else ''}: {step.teardown_error}"
    engines = ", ".join(f"{engine.name} {engine.outcome}" for engine in (step.details or {}).get("engines", ()))
    if engines:
        return f"{after}: {engines}" if after else engines
    return f"ended {after}" if after else "ok"


def snapshot_engines(engines: EngineRegistry | None) -> list[dict[str, Any]]:
    if engines is None:
        return []
    return [
        {
            "name": entry.name,
            "role": entry.role,
            "url": display_url(entry.engine),
            "dialect": entry.engine.dialect.name,
            "driver": entry.engine.dialect.driver,
            "pool": _pool_status(entry.engine.pool),
        }
        for entry in engines
    ]


def display_url(engine: Engine) -> str:
    """The engine's URL as a reader wants it: the password masked; for SQLite, the file's path.

    SQLAlchemy renders ``sqlite:///file:/path?mode=ro&uri=true`` with the colon escaped (``file%3A``); the
    panel shows ``sqlite /path (mode=ro)`` instead.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return masked_url(engine)
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return "sqlite (in memory)"
    if str(url.query.get("uri", "")).lower() == "true" and database.startswith("file:"):
        database = database[len("file:"):]
    options = [f"{key}={'***' if is_secret_name(key) else value}" for key, value in url.query.items() if key != "uri"]
    return f"sqlite {database}" + (f" ({', '.join(options)})" if options else "")


_POOLS_WITHOUT_COUNTS = {
    "NullPool": "no pool: a new connection for each use",
    "StaticPool": "one connection, shared",
    "SingletonThreadPool": "one connection per thread",
    "AssertionPool": "one connection at a time",
}


def _pool_status(pool: Any) -> dict[str, Any]:
    """The pool's numbers and a sentence about them (``overflow()`` is negative until the pool is full)."""
    name = type(pool).__name__
    status: dict[str, Any] = {"class": name}
    for key, method in (("size", "size"), ("checked_out", "checkedout"), ("overflow", "overflow"),
                        ("checked_in", "checkedin")):
        reader = getattr(pool, method, None)
        if callable(reader):
            try:
                status[key] = reader()
            except Exception:  # noqa: BLE001 - a pool that cannot tell is shown without the number
                status[key] = None
    status["text"] = _pool_text(status) or _POOLS_WITHOUT_COUNTS.get(name, "")
    return status


def _pool_text(status: dict[str, Any]) -> str | None:
    numbers = [n for n in (status.get(k) for k in ("size", "checked_out", "checked_in", "overflow"))
               if isinstance(n, int)]
    if len(numbers) != 4:
        return None
    size, in_use, idle, overflow = numbers
    text = f"pool size {size}: {in_use} in use, {idle} idle"
    if overflow > 0:
        text += f", {overflow} beyond the size"
    elif in_use + idle == 0:
        text = f"pool size {size}: no connection open"
    return text


def snapshot(context: Any, engines: EngineRegistry | None) -> dict[str, Any]:
    data = snapshot_context(context)
    data["engines"] = snapshot_engines(engines)
    data["pid"] = os.getpid()
    return data


def summary(data: dict[str, Any]) -> str:
    """The toolbar's nav line: ``3 resources · 7 statements``, or ``not used``.

    The statements are all those of the request's context, including the ones run while it ended (an audit
    entry written by middleware, the flush of a commit); the SQLAlchemy panel also lists transaction events and
    stops listing when the response is made, so its number differs.
    """
    if not data.get("created"):
        return "not used"
    resources = len(data["resources"])
    parts = [f"{resources} resource{'s' if resources != 1 else ''}"]
    total = data.get("statements")
    if total is not None:
        parts.append(f"{total} statement{'s' if total != 1 else ''}")
    return " · ".join(parts)
