"""Joining sessions to a ``transaction`` manager through zope.sqlalchemy, once per session factory.

zope.sqlalchemy's ``register(session)`` adds its listeners to each new session, which costs more than the rest
of creating a session, and fixes one transaction manager at registration. Here the listeners are added once to
an engine's ``sessionmaker``; each session names its own manager in ``session.info``, so a per-request explicit
manager (``request.tm``) and a per-context one work the same way.

Sessions join in the *changed* state: a writer's transaction is always committed by the manager, so a raw
``session.execute(text("INSERT ..."))`` is never silently rolled back for want of ``mark_changed()``. Committing
an unchanged transaction costs the same round trip as rolling it back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from .errors import JoinedSessionCommitError
from .usage import set_outcome

TRANSACTION_MANAGER_KEY = "transaction_manager"
_HOOKED_KEY = "pyramid_polydatum.hooked_transaction"


def _after_commit(committed: bool, session: Session) -> None:
    """Record the outcome; and release the session of a failed commit now.

    zope.sqlalchemy leaves a one-phase session open when its commit fails: its connection (and, on SQLite, the
    database's write lock) would stay held until the unit of work ends, and anything written meanwhile on another
    engine of the same database would wait for it.
    """
    session.info.pop(_HOOKED_KEY, None)
    set_outcome(session, "committed" if committed else "commit failed")
    if not committed:
        session.close()


def _after_abort(session: Session) -> None:
    session.info.pop(_HOOKED_KEY, None)
    set_outcome(session, "aborted")


def join_sessions_of(factory: sessionmaker[Session], engine_name: str) -> None:
    """Sessions from ``factory`` join ``session.info['transaction_manager']``'s current transaction."""
    from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

    def join(session: Session) -> None:
        manager = session.info.get(TRANSACTION_MANAGER_KEY)
        if manager is None:
            raise JoinedSessionCommitError(
                f"a session of the {engine_name!r} engine has no transaction manager in "
                f"session.info[{TRANSACTION_MANAGER_KEY!r}]; create sessions through the context (ctx.db)"
            )
        join_transaction(session, STATUS_CHANGED, manager, keep_session=False)
        current = manager.get()
        if session.info.get(_HOOKED_KEY) is not current:
            session.info[_HOOKED_KEY] = current
            current.addAfterCommitHook(_after_commit, args=(session,))
            current.addAfterAbortHook(_after_abort, args=(session,))

    def after_begin(session: Session, transaction: Any, connection: Any) -> None:
        join(session)

    def after_attach(session: Session, instance: Any) -> None:
        join(session)

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        from transaction._transaction import Status
        from transaction.interfaces import NoTransaction

        manager = session.info.get(TRANSACTION_MANAGER_KEY)
        try:
            committing = manager is not None and manager.get().status == Status.COMMITTING
        except NoTransaction:
            committing = False
        if not committing:
            raise JoinedSessionCommitError(
                f"sessions of the {engine_name!r} engine are committed by the transaction manager: call "
                "transaction_manager.commit() (in Pyramid, let pyramid_tm commit, or request.tm.commit()) "
                "instead of session.commit()"
            )

    event.listen(factory, "after_begin", after_begin)
    event.listen(factory, "after_attach", after_attach)
    event.listen(factory, "before_commit", before_commit)
