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

from .errors import JoinedSessionCommitError, TransactionNotActive
from .usage import set_outcome

TRANSACTION_MANAGER_KEY = "transaction_manager"
_HOOKED_KEY = "pyramid_polydatum.hooked_transaction"
_UNJOINED_KEY = "pyramid_polydatum.unjoined"


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
        current = _active_transaction(manager)
        if current is None:
            # the unit of work's transaction has ended (or failed): reads may go on, writes are refused
            session.info[_UNJOINED_KEY] = True
            return
        session.info.pop(_UNJOINED_KEY, None)
        join_transaction(session, STATUS_CHANGED, manager, keep_session=False)
        if session.info.get(_HOOKED_KEY) is not current:
            session.info[_HOOKED_KEY] = current
            current.addAfterCommitHook(_after_commit, args=(session,))
            current.addAfterAbortHook(_after_abort, args=(session,))

    def after_begin(session: Session, transaction: Any, connection: Any) -> None:
        join(session)

    def after_attach(session: Session, instance: Any) -> None:
        join(session)

    def before_flush(session: Session, flush_context: Any, instances: Any) -> None:
        if session.info.get(_UNJOINED_KEY) and (session.new or session.dirty or session.deleted):
            raise TransactionNotActive(
                f"the unit of work's transaction has already ended: this {engine_name!r} session may still read, "
                "but a write now would never be committed (in Pyramid, context middleware and finished callbacks "
                "run after pyramid_tm's commit: write to an independent engine there)"
            )

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        from transaction._transaction import Status

        manager = session.info.get(TRANSACTION_MANAGER_KEY)
        current = _current_transaction(manager) if manager is not None else None
        if current is None or current.status != Status.COMMITTING:
            raise JoinedSessionCommitError(
                f"sessions of the {engine_name!r} engine are committed by the transaction manager: call "
                "transaction_manager.commit() (in Pyramid, let pyramid_tm commit, or request.tm.commit()) "
                "instead of session.commit()"
            )

    event.listen(factory, "after_begin", after_begin)
    event.listen(factory, "after_attach", after_attach)
    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "before_commit", before_commit)


def joined_to_open_transaction(session: Session) -> bool:
    """True when ``session`` is joined to its manager's transaction and that transaction can still commit."""
    manager = session.info.get(TRANSACTION_MANAGER_KEY)
    return (
        manager is not None
        and not session.info.get(_UNJOINED_KEY)
        and session.info.get(_HOOKED_KEY) is not None
        and _active_transaction(manager) is not None
    )


def _current_transaction(manager: Any) -> Any:
    from transaction.interfaces import NoTransaction

    try:
        return manager.get()
    except NoTransaction:
        return None


def _active_transaction(manager: Any) -> Any:
    """The manager's transaction if it can still take work (not committing, failed or doomed), else None."""
    from transaction._transaction import Status

    current = _current_transaction(manager)
    if current is None or current.status != Status.ACTIVE or current.isDoomed():
        return None
    return current
