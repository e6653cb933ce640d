"""Fork safety: a child process never uses a database connection its parent opened.

Prefork servers (gunicorn with ``--preload``, uWSGI without ``lazy-apps``) load the app, and often touch the
database, before forking workers. A connection shared across a fork is one socket used by two processes: the
classic "SSL error: decryption failed or bad record mac" or a protocol desync. Layers, all on by default:

- ``os.register_at_fork``: in the child, every registered engine forgets its pool with ``dispose(close=False)``
  (``close=True`` would close sockets the parent is still using);
- the uWSGI post-fork hook, because uWSGI does not run Python's at-fork hooks unless configured to;
- pyramid_forksafe's ``ApplicationPostFork`` event (wired by the Pyramid include);
- a process-id guard on pool checkout that discards any connection born in another process, in case all of the
  above were bypassed;
- for connections that were checked out when the process forked (a fork inside an open unit of work), the
  at-fork hook replaces, in the child only, the DBAPI connection under the pool's proxy with a stand-in that
  refuses every use (``ForkedConnectionError``) before anything is sent, and whose reset and close do nothing:
  the child cannot send a statement, a COMMIT, a ROLLBACK or a close on the parent's socket, and the parent's
  transaction goes on untouched.
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

from .errors import ForkedConnectionError

log = logging.getLogger("pyramid_polydatum")

_PID_KEY = "pyramid_polydatum.pid"
#: connections checked out of guarded pools right now: id(pool entry) -> (entry, weak proxy)
_checked_out: dict[int, tuple[Any, weakref.ref[Any]]] = {}
_after_fork_callbacks: weakref.WeakSet[Any] = weakref.WeakSet()
_hooks_lock = threading.Lock()
_hooks_installed = False
_pid = 0  # this process's id, kept true by the at-fork hook once it is installed


def current_pid() -> int:
    """``os.getpid()``, without the system call once the at-fork hook keeps a copy up to date.

    Used on per-request paths (a context's sessions check they are still in their process); the pool checkout
    guard always asks the system, as it must also catch forks that skip Python's hooks.
    """
    return _pid if _hooks_installed else os.getpid()


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
        _checked_out[id(connection_record)] = (connection_record, weakref.ref(connection_proxy))

    def on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        _checked_out.pop(id(connection_record), None)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    _install_process_hooks()


class ForeignConnection:
    """In a forked child, stands in for a DBAPI connection that the parent opened and had checked out.

    Any use raises ``ForkedConnectionError``; the pool's own housekeeping (``rollback`` on return, ``close``)
    does nothing. The parent's connection object is dropped without a word to the server (psycopg 3 finishes a
    connection only in the process that opened it).
    """

    def __init__(self, owner_pid: int) -> None:
        self._owner_pid = owner_pid

    def rollback(self) -> None:
        """The pool resets a connection it takes back: there is nothing of this process's to undo."""

    def close(self) -> None:
        """Closing the parent's socket from the child would end the parent's session: do nothing."""

    def __getattr__(self, name: str) -> Any:
        raise ForkedConnectionError(
            f"this database connection belongs to process {self._owner_pid}, the parent of this forked process "
            f"({os.getpid()}): a forked process must open its own context (its parent's unit of work is not its "
            "to use; nothing was sent)"
        )

    def __repr__(self) -> str:
        return f"<ForeignConnection of process {self._owner_pid}>"


def replace_foreign_checked_out_connections() -> int:
    """In a forked child: put a ``ForeignConnection`` under every connection the parent had checked out."""
    pid = os.getpid()
    replaced = 0
    for key, (record, proxy_ref) in list(_checked_out.items()):
        owner = record.info.get(_PID_KEY)
        if owner is None or owner == pid:
            continue
        stand_in = ForeignConnection(owner)
        record.dbapi_connection = stand_in
        proxy = proxy_ref()
        if proxy is not None:
            proxy.dbapi_connection = stand_in
        del _checked_out[key]
        replaced += 1
    return replaced


def register_after_fork(owner: Any) -> None:
    """Call ``owner.after_fork()`` in every forked child while ``owner`` is alive (held weakly)."""
    _install_process_hooks()
    _after_fork_callbacks.add(owner)


def unregister_after_fork(owner: Any) -> None:
    _after_fork_callbacks.discard(owner)


def run_after_fork_callbacks() -> None:
    """Fence off the parent's checked-out connections, then reset every registered owner; safe to call more
    than once in the same child."""
    global _pid
    _pid = os.getpid()
    try:
        replace_foreign_checked_out_connections()
    except Exception:
        log.exception("fencing off the parent's connections after fork failed")
    for owner in list(_after_fork_callbacks):
        try:
            owner.after_fork()
        except Exception:
            log.exception("resetting %r after fork failed", owner)


def _install_process_hooks() -> None:
    global _hooks_installed, _pid
    with _hooks_lock:
        if _hooks_installed:
            return
        _pid = os.getpid()
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
