"""The demo's resource and middleware besides the database sessions."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import Any

from .models import AuditEntry

log = logging.getLogger("demo_app")


def memo(context: Any) -> Generator[dict[Any, Any], None, None]:
    """A per-request identity memo: an item read twice in one request is loaded once."""
    cache: dict[Any, Any] = {}
    yield cache
    cache.clear()


def audit(context: Any) -> Generator[None, None, None]:
    """Time every unit of work; write an audit entry for requests that change data, even failed ones.

    The entry goes to the logger engine, whose sessions commit on their own: a request whose transaction was
    aborted still leaves its trace.
    """
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Exception as error:
        outcome = f"failed: {type(error).__name__}"
        raise
    finally:
        elapsed = int((time.perf_counter() - started) * 1000)
        request = context.meta.request
        if request is not None and request.method not in ("GET", "HEAD"):
            context.db.logger.add(AuditEntry(method=request.method, path=request.path_qs[:500],
                                             outcome=outcome, milliseconds=elapsed))
        log.debug("unit of work %s in %d ms", outcome, elapsed)
