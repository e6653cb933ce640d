"""Per-context sessions: ``ctx.db.reader``, ``.writer``, ``.logger``, ``.get(name)`` and ``.any``.

Sessions are created on first access only, one per engine per context, and are never shared with another
context, thread or request. Joined sessions join the transaction manager the context was given
(``meta.transaction_manager``: ``request.tm`` in Pyramid), whose owner alone commits or aborts it; a context given
none begins its own. ``install_sessions`` registers the resource, which also ends the unit of work
(``__polydatum_finish__``): it commits the transaction the context owns when the context succeeds, aborts it
otherwise, and commits independent engines (the logger) either way. Every session is closed, and every
connection back in its pool, when the context ends, whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .errors import ForkedConnectionError
from .forksafe import current_pid
from .joining import CLOSING_KEY, TRANSACTION_MANAGER_KEY, joined_to_open_transaction
from .registry import LOGGER, EngineEntry, EngineRegistry
from .usage import OUTCOME_KEY, USAGE_KEY, EngineUsage, UsageCounter, set_outcome

if TYPE_CHECKING:
    from ..core.context import DataAccessContext
    from ..core.manager import DataManager

log = logging.getLogger("pyramid_polydatum")

_MEMOIZED = ("reader", "writer", "logger")

#: Returns the transaction manager a context's joined sessions use, or None to let the sessions own one.
TransactionManagerLookup = Callable[["DataAccessContext"], Any]


def transaction_manager_from_meta(context: DataAccessContext) -> Any:
    """The default lookup: ``meta.transaction_manager`` (the Pyramid integration puts ``request.tm`` there)."""
    return context.meta.get(TRANSACTION_MANAGER_KEY)


class ContextSessions:
    """The sessions of one context, created lazily per engine."""

    def __init__(
        self, registry: EngineRegistry, transaction_manager: Any = None, info: dict[str, Any] | None = None
    ) -> None:
        self._registry = registry
        self._sessions: dict[str, Session] = {}
        self._independent: list[tuple[str, Session]] = []
        self._transaction_manager = transaction_manager
        self._owns_transaction = transaction_manager is None
        self._info = info if info is not None else {}
        self._closed = False
        self._pid = current_pid()

    # -- access --------------------------------------------------------------------------------------------

    @property
    def registry(self) -> EngineRegistry:
        return self._registry

    # Kept on the instance after the first access (later reads are plain attribute hits); dropped at close.

    @cached_property
    def reader(self) -> Session:
        """The reader's session (the writer's when no reader is configured)."""
        return self._session_for(self._registry.reader)

    @cached_property
    def writer(self) -> Session:
        return self._session_for(self._registry.writer)

    @cached_property
    def logger(self) -> Session:
        return self._session_for(self._registry.get(LOGGER))

    @property
    def any(self) -> Session:
        """The writer's session if this context already used it, else the reader's: read-your-writes."""
        writer = self._registry.writer
        if writer.name in self._sessions:
            return self._sessions[writer.name]
        return self.reader

    def get(self, name: str) -> Session:
        """The session of the engine ``name`` (``reader``/``writer`` fall back as the registry says)."""
        return self._session_for(self._registry.resolve(name))

    @property
    def used(self) -> tuple[str, ...]:
        """Names of the engines whose session this context created, in order."""
        return tuple(self._sessions)

    def __contains__(self, name: object) -> bool:
        return name in self._sessions

    @property
    def transaction_manager(self) -> Any:
        """The manager joined sessions use; created (and owned) on first need when none was given."""
        if self._transaction_manager is None:
            import transaction

            self._transaction_manager = transaction.TransactionManager(explicit=True)
        return self._transaction_manager

    def _session_for(self, entry: EngineEntry) -> Session:
        session = self._sessions.get(entry.name)
        if session is not None:
            return session
        if self._closed:
            raise RuntimeError(f"the sessions of this context are closed; cannot open {entry.name!r}")
        if self._pid != current_pid():
            raise ForkedConnectionError(
                f"this context's sessions belong to process {self._pid}; a forked process must open its own "
                "context (its parent's connections are not its to use)"
            )
        info = self._info.copy()
        if entry.transaction == "joined":
            manager = self.transaction_manager
            if self._owns_transaction and not _in_transaction(manager):
                manager.begin()
            info[TRANSACTION_MANAGER_KEY] = manager
        if self._registry.statistics_enabled:
            info[USAGE_KEY] = UsageCounter()
        session = entry.new_session(info)
        self._sessions[entry.name] = session
        if entry.transaction == "independent":
            self._independent.append((entry.name, session))
        return session

    # -- the end of the unit of work -----------------------------------------------------------------------

    @property
    def owns_open_transaction(self) -> bool:
        """True while a transaction this context began itself (no manager was given) is open."""
        manager = self._transaction_manager
        return self._owns_transaction and manager is not None and _in_transaction(manager)

    def finish(self, error: BaseException | None) -> None:
        """End the unit of work: an owned transaction commits or aborts, then independent sessions commit.

        A failing commit of the owned transaction raises (the unit of work fails and nothing is half-stored), yet
        the independent sessions (the logger) still commit: that is what they are for. One that cannot commit is
        rolled back and logged, so an audit failure never turns a successful unit of work into an error. The owned
        transaction ends first so that its locks are released before the independent commits (on SQLite, a
        single-writer database, they would otherwise wait for it). Safe to call more than once.
        """
        if self._in_forked_child():
            return
        try:
            self._finish_owned_transaction(error)
        finally:
            self._commit_independent_sessions()

    def _finish_owned_transaction(self, error: BaseException | None) -> None:
        if not self.owns_open_transaction:
            return
        manager = self._transaction_manager
        if error is not None or manager.isDoomed():
            _quietly("aborting the transaction", manager.abort)
        else:
            manager.commit()

    def _commit_independent_sessions(self) -> None:
        for name, session in self._independent:
            _commit_independent(name, session)

    def close(self) -> None:
        """Close every session and return its connection; an owned, unfinished transaction is aborted.

        Independent sessions written after the unit of work was finished (by middleware torn down later) still
        commit. A joined session in a transaction owned by someone else (``meta.transaction_manager``) that is
        still open is left to that transaction, whose end closes it. In a forked child, nothing is sent to the
        database: the connections are the parent's and are only forgotten.
        """
        self._closed = True
        for name in _MEMOIZED:
            self.__dict__.pop(name, None)
        if self._in_forked_child():
            for session in self._sessions.values():
                _forget_connections(session)
            self._sessions.clear()
            self._independent.clear()
            return
        if self.owns_open_transaction:
            if self._transaction_manager.get().status == "Active":
                log.warning("aborting a transaction these sessions began that was never finished")
            _quietly("aborting the transaction", self._transaction_manager.abort)
        self._commit_independent_sessions()
        for name, session in self._sessions.items():
            info = session.info
            if not session.in_transaction():
                info.setdefault(OUTCOME_KEY, "no transaction")
            elif self._left_to_external_transaction(name, session):
                info[OUTCOME_KEY] = "left open to its transaction"
                continue
            info[CLOSING_KEY] = True
            try:
                session.close()
            except Exception:
                log.exception("closing the %r session failed", name)
            info.setdefault(OUTCOME_KEY, "rolled back")
            counter = info.get(USAGE_KEY)
            if counter is not None:
                counter.unbind()

    def _in_forked_child(self) -> bool:
        return self._pid != current_pid()

    def _left_to_external_transaction(self, name: str, session: Session) -> bool:
        """A joined session inside a transaction someone else owns and has not finished yet.

        Closing it would roll back work its owner has still to commit: a silent lost write. The manager closes
        the session itself when that transaction ends (zope.sqlalchemy's default).
        """
        return (
            not self._owns_transaction
            and TRANSACTION_MANAGER_KEY in session.info  # joined sessions only
            and joined_to_open_transaction(session)
        )

    def usage(self) -> tuple[EngineUsage, ...]:
        """Per engine this context used: statements and SQL time (when counted) and the transaction's outcome."""
        result = []
        for name, session in self._sessions.items():
            counter = session.info.get(USAGE_KEY)
            result.append(EngineUsage(
                name=name,
                role=self._registry.get(name).role,
                statements=counter.statements if counter is not None else None,
                sql_seconds=counter.seconds if counter is not None else None,
                outcome=session.info.get(OUTCOME_KEY, "open"),
            ))
        return tuple(result)

    def __polydatum_finish__(self, error: BaseException | None) -> None:
        """The context ends its unit of work here, after its middleware are torn down (see ``finish``)."""
        self.finish(error)

    def __polydatum_record__(self) -> Mapping[str, Any]:
        """For the context's record (and the debug toolbar): plain data only, no session."""
        return MappingProxyType({"engines": self.usage()})

    def __repr__(self) -> str:
        return f"<ContextSessions used={list(self._sessions)}>"


def _in_transaction(manager: Any) -> bool:
    from transaction.interfaces import NoTransaction

    try:
        manager.get()
    except NoTransaction:
        return False
    return True


def _commit_independent(name: str, session: Session) -> None:
    if not session.in_transaction():
        return
    try:
        session.commit()
    except Exception:
        log.exception("committing the independent %r session failed; its writes are rolled back", name)
        set_outcome(session, "commit failed")
        _quietly(f"rolling back the {name!r} session", session.rollback)
    else:
        set_outcome(session, "committed")


def _forget_connections(session: Session) -> None:
    """In a forked child: drop the parent's connections from ``session`` without a word to the server.

    Closing them would send ROLLBACK (or worse) over a socket the parent is still using; the pool is told the
    connection is gone, as the checkout guard does for pooled ones.
    """
    transaction = session.get_transaction()
    connections = getattr(transaction, "_connections", {}) if transaction is not None else {}
    for connection, *_ in list(connections.values()):
        fairy = getattr(connection, "_dbapi_connection", None)
        record = getattr(fairy, "_connection_record", None)
        if record is not None:
            record.dbapi_connection = None
        if fairy is not None:
            fairy.dbapi_connection = None


def _quietly(what: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:
        log.exception("%s failed", what)


def sessions_resource(
    registry: EngineRegistry,
    transaction_manager: TransactionManagerLookup = transaction_manager_from_meta,
) -> Callable[[DataAccessContext], Generator[ContextSessions, None, None]]:
    """A resource factory giving each context its ``ContextSessions``."""

    def sessions(context: DataAccessContext) -> Generator[ContextSessions, None, None]:
        request = context.meta.get("request")
        container = ContextSessions(
            registry, transaction_manager(context), info={"request": request} if request is not None else None
        )
        try:
            yield container
        finally:
            container.close()

    return sessions


def install_sessions(
    data_manager: DataManager,
    registry: EngineRegistry,
    name: str = "db",
    transaction_manager: TransactionManagerLookup = transaction_manager_from_meta,
) -> DataManager:
    """Register ``ctx.<name>`` sessions: a resource that also ends the unit of work.

    The context finishes it (commit or abort of a transaction it owns, then the independent engines) once every
    middleware is torn down, so the commit includes what middleware write while they are torn down, and a failed
    commit fails the context.
    """
    data_manager.register_resources(**{name: sessions_resource(registry, transaction_manager)})
    return data_manager

