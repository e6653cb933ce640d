"""Plain-data snapshots of a request's data context and of the app's engines, for the debug toolbar panel.

Everything here is strings, numbers and tuples: the toolbar keeps panels in its history, and a snapshot must keep
no context, session, connection or request alive. Meta values are shown as truncated reprs; URLs with the
password masked.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.meta import safe_repr
from ..core.record import StepRecord
from ..sessions.registry import EngineRegistry, masked_url

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
    }


def _meta_items(context: Any) -> list[tuple[Any, Any]]:
    """Meta items without computing lazy values: showing the page must not run a security policy."""
    return list(context.meta._values.items())


def _step(step: StepRecord) -> dict[str, Any]:
    return {
        "name": step.name,
        "setup_ms": None if step.setup_seconds is None else step.setup_seconds * 1000,
        "teardown_ms": None if step.teardown_seconds is None else step.teardown_seconds * 1000,
        "outcome": step.outcome,
        "received_error": str(step.received_error) if step.received_error else None,
    }


def snapshot_engines(engines: EngineRegistry | None) -> list[dict[str, Any]]:
    if engines is None:
        return []
    return [
        {
            "name": entry.name,
            "role": entry.role,
            "url": masked_url(entry.engine),
            "dialect": entry.engine.dialect.name,
            "driver": entry.engine.dialect.driver,
            "pool": _pool_status(entry.engine.pool),
        }
        for entry in engines
    ]


def _pool_status(pool: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"class": type(pool).__name__}
    for key, method in (("size", "size"), ("checked_out", "checkedout"), ("overflow", "overflow"),
                        ("checked_in", "checkedin")):
        reader = getattr(pool, method, None)
        if callable(reader):
            try:
                status[key] = reader()
            except Exception:  # noqa: BLE001 - a pool that cannot tell is shown without the number
                status[key] = None
    return status


def snapshot(context: Any, engines: EngineRegistry | None) -> dict[str, Any]:
    data = snapshot_context(context)
    data["engines"] = snapshot_engines(engines)
    data["pid"] = os.getpid()
    return data


def summary(data: dict[str, Any]) -> str:
    """The toolbar's nav line: ``3 resources · 7 queries``, or ``not used``."""
    if not data.get("created"):
        return "not used"
    resources = len(data["resources"])
    counts = [u["statements"] for u in data["usage"].values() if u["statements"] is not None]
    parts = [f"{resources} resource{'s' if resources != 1 else ''}"]
    if counts:
        total = sum(counts)
        parts.append(f"{total} quer{'ies' if total != 1 else 'y'}")
    return " · ".join(parts)
