"""Fork safety: a child process never uses a database connection its parent opened.

Prefork servers (gunicorn with ``--preload``, uWSGI without ``lazy-apps``) load the app, and often touch the
database, before forking workers. A connection shared across a fork is one socket used by two processes: the
classic "SSL error: decryption failed or bad record mac" or a protocol desync. Layers, all on by default:

- ``os.register_at_fork``: in the child, every registered engine forgets its pool with ``dispose(close=False)``
  (``close=True`` would close sockets the parent is still using);
- the uWSGI post-fork hook, because uWSGI does not run Python's at-fork hooks unless configured to;
- pyramid_forksafe's ``ApplicationPostFork`` event (wired by the Pyramid include);
- a process-id guard on pool checkout that discards any connection born in another process, in case all of the
  above were bypassed.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

log = logging.getLogger("pyramid_polydatum")

_PID_KEY = "pyramid_polydatum.pid"
_after_fork_callbacks: weakref.WeakSet[Any] = weakref.WeakSet()
_hooks_lock = threading.Lock()
_hooks_installed = False


def install_pid_guard(engine: Engine) -> None:
    """Record the creating process of each connection; refuse, on checkout, one from another process."""

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        connection_record.info[_PID_KEY] = os.getpid()

    def on_checkout(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
        pid = os.getpid()
        if connection_record.info.get(_PID_KEY, pid) != pid:
            # Forget the parent's socket without closing it (the parent still uses it); the pool then opens a
            # fresh connection for this process.
            connection_record.dbapi_connection = connection_proxy.dbapi_connection = None
            raise exc.DisconnectionError(
                f"connection was opened by process {connection_record.info[_PID_KEY]}, not this process ({pid})"
            )

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)


def register_after_fork(owner: Any) -> None:
    """Call ``owner.after_fork()`` in every forked child while ``owner`` is alive (held weakly)."""
    _install_process_hooks()
    _after_fork_callbacks.add(owner)


def unregister_after_fork(owner: Any) -> None:
    _after_fork_callbacks.discard(owner)


def run_after_fork_callbacks() -> None:
    """Reset every registered owner; safe to call more than once in the same child."""
    for owner in list(_after_fork_callbacks):
        try:
            owner.after_fork()
        except Exception:
            log.exception("resetting %r after fork failed", owner)


def _install_process_hooks() -> None:
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        os.register_at_fork(after_in_child=run_after_fork_callbacks)
        _install_uwsgi_hook(run_after_fork_callbacks)
        _hooks_installed = True


def _install_uwsgi_hook(callback: Callable[[], None]) -> bool:
    """Register ``callback`` with uWSGI's post-fork hook when running under uWSGI (needs its master process)."""
    try:
        import uwsgidecorators  # only importable inside uWSGI
    except ImportError:
        return False
    uwsgidecorators.postfork(callback)
    return True
