"""The persistent layer: the current context's SQLAlchemy sessions, never committing on its own.

Writes use ``ctx.db.writer`` and only ``add``/``delete`` + ``flush``: the unit of work commits (or rolls back)
them, so a store write is part of the same transaction as the rest of the request. Reads use ``ctx.db.any``, the
writer once this context used it (read-your-writes), else the reader.

The session listeners this store relies on (did this transaction write? when did it begin?) are installed when a
store is created, on the sessionmakers of ``registry`` (or, without one, on the ``Session`` class), once per
target: importing this module changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Session

from . import sequence
from .base import NamedKey, Read, Store
from .db import ContextDatabase
from .keys import KeySpec, StoreError

if TYPE_CHECKING:
    from ..core.manager import DataManager
    from ..sessions.registry import EngineRegistry


_WROTE_KEY = "pyramid_polydatum.stores.wrote"
_AS_OF_KEY = "pyramid_polydatum.stores.as_of"


def _mark_flush(session: Session, flush_context: Any) -> None:
    session.info[_WROTE_KEY] = True


def _mark_statement(state: Any) -> None:
    if not state.is_select:  # bulk ORM statements and raw SQL text alike
        state.session.info[_WROTE_KEY] = True


def _mark_begin(session: Session, transaction: Any, connection: Any) -> None:
    # the data this transaction reads is at the latest as fresh as now (a snapshot begins at or after this)
    session.info.setdefault(_AS_OF_KEY, (sequence.current(), time.time()))


def _forget_marks(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE_KEY, None)
        session.info.pop(_AS_OF_KEY, None)


_LISTENERS = (
    ("after_flush", _mark_flush),
    ("do_orm_execute", _mark_statement),
    ("after_begin", _mark_begin),
    ("after_transaction_end", _forget_marks),
)


def session_targets(registry: EngineRegistry | None) -> list[Any]:
    """What to listen on: the registry's sessionmakers, else every ``Session``."""
    return [entry.sessionmaker for entry in registry] if registry is not None else [Session]


def install_listeners(targets: Iterable[Any]) -> None:
    """Idempotent: a target already listened on (or every ``Session``, if that is) is left alone."""
    for target in targets:
        for name, listener in _LISTENERS:
            if not (event.contains(target, name, listener) or event.contains(Session, name, listener)):
                event.listen(target, name, listener)


class MultipleRowsError(StoreError):
    """An alternate-key lookup matched more than one row: the key is not unique in the database."""


class SQLAlchemyStore(Store):
    """Mapped classes in the database of the active context (``DataManager.get_active_context()``).

    ``registry``: the ``EngineRegistry`` whose sessions this store (and a chain's invalidator) watches; without
    it every ``Session`` of the process is watched. Its engines are read when the store is created: add every
    engine first (an engine added later is not watched).
    """

    transactional = True

    def __init__(
        self, data_manager: DataManager, classes: Iterable[type] = (), *, resource: str = "db",
        polymorphic: bool = True, registry: EngineRegistry | None = None,
    ) -> None:
        self._data_manager = data_manager
        self._resource = resource
        self.session_targets = session_targets(registry)
        install_listeners(self.session_targets)
        super().__init__(classes, polymorphic)

    def register(self, cls: type) -> KeySpec:
        if inspect(cls, raiseerr=False) is None:
            raise StoreError(f"{cls.__qualname__} is not a mapped SQLAlchemy class")
        return super().register(cls)

    def _sessions(self) -> ContextDatabase:
        context = self._data_manager.require_active_context("a SQLAlchemyStore operation")
        sessions: ContextDatabase = getattr(context, self._resource)
        return sessions

    def reads_committed(self) -> bool:
        """False once this context's writer wrote in its open transaction: reads may include uncommitted rows."""
        sessions = self._sessions()
        if sessions.registry.writer.name not in sessions:
            return True
        return _clean(sessions.writer)

    # -- writes --------------------------------------------------------------------------------------------

    def put(self, obj: Any) -> None:
        self.batch_put([obj])

    def batch_put(self, objs: Iterable[Any]) -> None:
        session = self._sessions().writer
        for obj in objs:
            self.related_classes(type(obj))
            _attach(session, obj)
        session.flush()

    def delete(self, obj: Any) -> bool:
        return self.batch_delete([obj]) == 1

    def batch_delete(self, objs: Iterable[Any]) -> int:
        """Delete the rows of ``objs`` (instances or detached copies); a missing row deletes and creates nothing."""
        session = self._sessions().writer
        deleted = 0
        for obj in objs:
            self.related_classes(type(obj))
            row = obj if inspect(obj).session is session else session.get(type(obj), _primary_key(obj))
            if row is not None:
                session.delete(row)
                deleted += 1
        session.flush()
        return deleted

    def delete_key(self, cls: type, key: Any) -> bool:
        """Delete the row found by ``key``; ``MultipleRowsError`` (nothing deleted) when the key is not unique."""
        ((names, values),) = self.resolve(cls, [key])
        session = self._sessions().writer
        row = self._one(session, cls, names, values, fresh=False)
        if row is None:
            return False
        session.delete(row)
        session.flush()
        return True

    # -- reads ---------------------------------------------------------------------------------------------

    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        return self._lookup(self._sessions().any, cls, keys, fresh=False)

    def read(self, cls: type, keys: Sequence[NamedKey]) -> Read:
        """A read a chain may backfill shared caches from: rows refreshed from the database (not identity-map
        copies loaded earlier) when the session holds no changes, and the moment the data was at the latest fresh.
        """
        session = self._sessions().any
        clean = _clean(session) and self.reads_committed()
        found = self._lookup(session, cls, keys, fresh=clean)
        as_of = session.info.get(_AS_OF_KEY) if clean else None
        return Read(found, as_of=as_of)

    def _lookup(self, session: Session, cls: type, keys: Sequence[NamedKey], fresh: bool) -> list[Any]:
        """One ``IN`` query per declared key used; results aligned with ``keys``."""
        if not keys:
            return []
        self.spec(cls)
        options = {"populate_existing": True} if fresh else {}
        if len(keys) == 1:
            return [self._one(session, cls, *keys[0], fresh=fresh)]
        by_names: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}
        for names, values in keys:
            by_names.setdefault(names, set()).add(values)
        found: dict[NamedKey, Any] = {}
        for names, wanted in by_names.items():
            columns = [getattr(cls, n) for n in names]
            clause = columns[0].in_([v[0] for v in wanted]) if len(names) == 1 else tuple_(*columns).in_(wanted)
            rows: list[Any] = list(session.scalars(select(cls).where(clause).execution_options(**options)).all())
            for row in rows:
                values = tuple(getattr(row, n) for n in names)
                if (names, values) in found and found[(names, values)] is not row:
                    raise MultipleRowsError(f"{cls.__qualname__} lookup by {names}={values!r} matched several rows")
                found[(names, values)] = row
        return [found.get(key) for key in keys]

    def _one(self, session: Session, cls: type, names: tuple[str, ...], values: tuple[Any, ...], fresh: bool) -> Any:
        mapper: Any = inspect(cls)
        pk = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        if names == pk:
            return session.get(cls, values if len(values) > 1 else values[0], populate_existing=fresh)
        query: Any = select(cls).filter_by(**dict(zip(names, values, strict=True))).limit(2)
        if fresh:
            query = query.execution_options(populate_existing=True)
        rows: list[Any] = list(session.scalars(query).all())
        if len(rows) > 1:
            raise MultipleRowsError(
                f"{cls.__qualname__} lookup by {dict(zip(names, values, strict=True))!r} matched several rows: "
                f"declare only unique columns as keys (add a unique constraint)"
            )
        return rows[0] if rows else None


def _clean(session: Session) -> bool:
    return not (session.info.get(_WROTE_KEY) or session.new or session.dirty or session.deleted)


def _primary_key(obj: Any) -> Any:
    mapper: Any = inspect(type(obj))
    pk = [getattr(obj, mapper.get_property_by_column(c).key, None) for c in mapper.primary_key]
    return pk[0] if len(pk) == 1 else tuple(pk)


def _attach(session: Session, obj: Any) -> Any:
    """Add a new instance; merge a copy of an existing row (a cache's transient copy, another session's).

    ``add`` of a transient copy of an existing row would INSERT it again; ``merge`` loads the row by primary key
    and applies the copy's values to it. A transient object whose row does not exist is added itself.
    """
    state = inspect(obj)
    if state.session is session:
        return obj
    if state.transient:
        pk = _primary_key(obj)
        if any(v is None for v in (pk if isinstance(pk, tuple) else (pk,))) or session.get(type(obj), pk) is None:
            session.add(obj)
            return obj
    return session.merge(obj)
