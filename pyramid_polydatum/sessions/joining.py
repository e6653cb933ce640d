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
from .usage import OUTCOME_KEY, set_outcome

TRANSACTION_MANAGER_KEY = "transaction_manager"
_JOINED_KEY = "pyramid_polydatum.joined_transaction"
_UNJOINED_KEY = "pyramid_polydatum.unjoined"
_COMMITTING_KEY = "pyramid_polydatum.committing"
_COMMITTED_KEY = "pyramid_polydatum.committed"
#: set by the context while it closes its sessions, so a rollback there reads "rolled back", not "aborted"
CLOSING_KEY = "pyramid_polydatum.closing"

NOT_ACTIVE_MESSAGE = (
    "the transaction of this unit of work is not active, so a write now would never be committed: "
    "in a served request pyramid_tm has already committed or aborted request.tm (context middleware run after "
    "it: write to an independent engine there); in a script or pshell, begin request.tm first "
    "('with request.tm:' around the writes, or request.tm.begin() ... request.tm.commit())"
)


def join_sessions_of(factory: sessionmaker[Session], engine_name: str) -> None:
    """Sessions from ``factory`` join ``session.info['transaction_manager']``'s current transaction.

    Nothing is registered on the transaction itself (no after-commit or after-abort hook): other data managers
    joined to it see exactly the calls they would see with zope.sqlalchemy alone. Outcomes are read from the
    session's own events.
    """
    from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

    def join(session: Session) -> None:
        manager = session.info.get(TRANSACTION_MANAGER_KEY)
        if manager is None:
            raise JoinedSessionCommitError(
                f"a session of the {engine_name!r} engine has no transaction manager in "
                f"session.info[{TRANSACTION_MANAGER_KEY!r}]; create sessions through the context (ctx.db)"
            )
        current = _joinable_transaction(manager)
        if current is None:
            # no transaction to join (not begun yet, or already ended): reads may go on, writes are refused
            session.info[_UNJOINED_KEY] = True
            return
        session.info.pop(_UNJOINED_KEY, None)
        join_transaction(session, STATUS_CHANGED, manager, keep_session=False)
        session.info[_JOINED_KEY] = current

    def after_begin(session: Session, transaction: Any, connection: Any) -> None:
        join(session)

    def after_attach(session: Session, instance: Any) -> None:
        join(session)

    def before_flush(session: Session, flush_context: Any, instances: Any) -> None:
        if session.info.get(_UNJOINED_KEY) and (session.new or session.dirty or session.deleted):
            join(session)  # the manager may have begun a transaction since the session last looked
            if session.info.get(_UNJOINED_KEY):
                raise TransactionNotActive(f"{engine_name!r} session: {NOT_ACTIVE_MESSAGE}")

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        from transaction._transaction import Status  # not exported elsewhere; every test of joining uses it

        manager = session.info.get(TRANSACTION_MANAGER_KEY)
        current = _current_transaction(manager) if manager is not None else None
        if current is None or current.status != Status.COMMITTING:
            raise JoinedSessionCommitError(
                f"sessions of the {engine_name!r} engine are committed by the transaction manager: call "
                "transaction_manager.commit() (in Pyramid, let pyramid_tm commit, or request.tm.commit()) "
                "instead of session.commit()"
            )
        session.info[_COMMITTING_KEY] = True

    event.listen(factory, "after_begin", after_begin)
    event.listen(factory, "after_attach", after_attach)
    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    session.info.pop(_COMMITTING_KEY, None)
    session.info[_COMMITTED_KEY] = True
    set_outcome(session, "committed")


def _after_transaction_end(session: Session, transaction: Any) -> None:
    """The session's outermost transaction ended: committed (seen above), or how it did not."""
    if transaction.parent is not None:
        return
    info = session.info
    if info.pop(_COMMITTED_KEY, None):
        return
    if info.pop(_COMMITTING_KEY, None):
        set_outcome(session, "commit failed")
    elif info.get(CLOSING_KEY):
        # the context closing its sessions: a read after the commit does not turn "committed" into "rolled back"
        info.setdefault(OUTCOME_KEY, "rolled back")
    else:
        set_outcome(session, "aborted")


def joined_to_open_transaction(session: Session) -> bool:
    """True when ``session`` is joined to its manager's current transaction and that one can still commit."""
    manager = session.info.get(TRANSACTION_MANAGER_KEY)
    joined = session.info.get(_JOINED_KEY)
    return (
        manager is not None
        and joined is not None
        and not session.info.get(_UNJOINED_KEY)
        and _joinable_transaction(manager) is joined
    )


def _current_transaction(manager: Any) -> Any:
    from transaction.interfaces import NoTransaction

    try:
        return manager.get()
    except NoTransaction:
        return None


def _joinable_transaction(manager: Any) -> Any:
    """The manager's transaction if it can still take work, else None.

    A doomed transaction counts: ``transaction`` documents that it behaves as active and only refuses to commit,
    so writes flush (a dry run) and nothing is stored. Committing or failed transactions do not.
    """
    from transaction._transaction import Status

    current = _current_transaction(manager)
    if current is None or current.status not in (Status.ACTIVE, Status.DOOMED):
        return None
    return current
