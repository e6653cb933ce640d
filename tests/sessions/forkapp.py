"""A plain WSGI app for the prefork-server tests in ``test_forksafe.py`` (gunicorn ``--preload``, uWSGI master).

At import time, which a prefork server does once in its master process, it builds an ``EngineRegistry`` from
``FORKAPP_DATABASE_URL`` and queries the database, so the master holds a pooled connection when it forks the
workers: exactly the situation that shares one socket between processes unless the registry resets its pools in
each child. Every request answers, as JSON, the worker's pid, the PostgreSQL backend pid of the connection the
worker used, and the backend pid the master got at import time.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text

from pyramid_polydatum.sessions import EngineRegistry

_BACKEND_PID = text("SELECT pg_backend_pid()")

registry = EngineRegistry()
registry.add("writer", os.environ["FORKAPP_DATABASE_URL"])

with registry.writer.engine.connect() as _connection:
    #: The master's backend: its connection stays in the pool, checked in, when the server forks.
    PARENT_BACKEND_PID: int = _connection.scalar(_BACKEND_PID)

#: The process that imported this module (the master under ``--preload`` / without ``lazy-apps``).
IMPORT_PID: int = os.getpid()
#: The pool the master filled; a worker whose engine still has it did not reset its registry after the fork.
_IMPORT_POOL = registry.writer.engine.pool


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer which worker served the request and which database backend it talked to."""
    try:
        with registry.writer.engine.connect() as connection:
            backend_pid = connection.scalar(_BACKEND_PID)
            time.sleep(0.02)  # keep this worker busy, so concurrent requests reach the other workers too
        status, payload = "200 OK", {
            "pid": os.getpid(),
            "backend_pid": backend_pid,
            "parent_backend_pid": PARENT_BACKEND_PID,
            "import_pid": IMPORT_PID,
            "pool_reset_after_fork": registry.writer.engine.pool is not _IMPORT_POOL,
        }
    except Exception as error:  # reported to the test, which counts it as a failure
        status, payload = "500 Internal Server Error", {"pid": os.getpid(), "error": f"{type(error).__name__}: {error}"}
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
