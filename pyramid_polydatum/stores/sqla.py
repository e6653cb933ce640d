"""The persistent layer: the current context's SQLAlchemy sessions, never committing on its own.

Writes use ``ctx.db.writer`` and only ``add`` + ``flush``: the unit of work commits (or rolls back) them, so a
store write is part of the same transaction as the rest of the request. Reads use ``ctx.db.any``, the writer once
this context used it (read-your-writes), else the reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Session

from .base import Store
from .keys import KeySpec, StoreError

if TYPE_CHECKING:
    from ..core.manager import DataManager


_WROTE_KEY = "pyramid_polydatum.stores.wrote"


def _mark_flush(session: Session, flush_context: Any) -> None:
    session.info[_WROTE_KEY] = True


def _mark_statement(state: Any) -> None:
    if not state.is_select:  # bulk ORM statements and raw SQL text alike
        state.session.info[_WROTE_KEY] = True


def _forget_marks(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE_KEY, None)


# every session: whether its open transaction holds writes decides if what it reads may be shared
event.listen(Session, "after_flush", _mark_flush)
event.listen(Session, "do_orm_execute", _mark_statement)
event.listen(Session, "after_transaction_end", _forget_marks)


class MultipleRowsError(StoreError):
    """An alternate-key lookup matched more than one row: the key is not unique in the database."""


class SQLAlchemyStore(Store):
    """Mapped classes in the database of the active context (``DataManager.get_active_context()``)."""

    transactional = True

    def __init__(
        self, data_manager: DataManager, classes: Iterable[type] = (), *, resource: str = "db",
        polymorphic: bool = True,
    ) -> None:
        self._data_manager = data_manager
        self._resource = resource
        super().__init__(classes, polymorphic)

    def register(self, cls: type) -> KeySpec:
        if inspect(cls, raiseerr=False) is None:
            raise StoreError(f"{cls.__qualname__} is not a mapped SQLAlchemy class")
        return super().register(cls)

    def _sessions(self) -> Any:
        context = self._data_manager.require_active_context("a SQLAlchemyStore operation")
        return getattr(context, self._resource)

    def _writer(self) -> Session:
        session: Session = self._sessions().writer
        return session

    def _reader(self) -> Session:
        session: Session = self._sessions().any
        return session


    def reads_committed(self) -> bool:
        """False once this context's writer wrote in its open transaction: reads may include uncommitted rows."""
        sessions = self._sessions()
        writer = sessions.registry.writer.name
        if writer not in sessions:
            return True
        session = sessions.writer
        return not (session.info.get(_WROTE_KEY) or session.new or session.dirty or session.deleted)

    def put(self, obj: Any) -> None:
        self.related_classes(type(obj))
        session = self._writer()
        _attach(session, obj)
        session.flush()

    def batch_put(self, objs: Iterable[Any]) -> None:
        session = self._writer()
        for obj in objs:
            self.related_classes(type(obj))
            _attach(session, obj)
        session.flush()

    def get(self, cls: type, key: Any) -> Any:
        names, values = self.spec(cls).resolve(key)
        session = self._reader()
        mapper: Any = inspect(cls)
        pk = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        if names == pk:
            return session.get(cls, values if len(values) > 1 else values[0])
        query: Any = select(cls).filter_by(**dict(zip(names, values, strict=True)))
        rows: list[Any] = list(session.scalars(query.limit(2)).all())
        if len(rows) > 1:
            raise MultipleRowsError(
                f"{cls.__qualname__} lookup by {dict(zip(names, values, strict=True))!r} matched several rows: "
                f"declare only unique columns as keys (add a unique constraint)"
            )
        return rows[0] if rows else None

    def batch_get(self, cls: type, keys: Sequence[Any]) -> list[Any]:
        """One ``IN`` query per declared key used; results aligned with ``keys``."""
        if not keys:
            return []
        spec = self.spec(cls)
        resolved = [spec.resolve(key) for key in keys]
        by_names: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}
        for names, values in resolved:
            by_names.setdefault(names, set()).add(values)
        found: dict[tuple[tuple[str, ...], tuple[Any, ...]], Any] = {}
        session = self._reader()
        for names, wanted in by_names.items():
            columns = [getattr(cls, n) for n in names]
            clause = columns[0].in_([v[0] for v in wanted]) if len(names) == 1 else tuple_(*columns).in_(wanted)
            rows: list[Any] = list(session.scalars(select(cls).where(clause)).all())
            for row in rows:
                values = tuple(getattr(row, n) for n in names)
                if (names, values) in found and found[(names, values)] is not row:
                    raise MultipleRowsError(f"{cls.__qualname__} lookup by {names}={values!r} matched several rows")
                found[(names, values)] = row
        return [found.get(item) for item in resolved]

    def delete(self, obj: Any) -> None:
        session = self._writer()
        session.delete(obj if inspect(obj).session is session else session.merge(obj))
        session.flush()

    def batch_delete(self, objs: Iterable[Any]) -> None:
        session = self._writer()
        for obj in objs:
            session.delete(obj if inspect(obj).session is session else session.merge(obj))
        session.flush()

    def delete_key(self, cls: type, key: Any) -> None:
        session = self._writer()
        names, values = self.spec(cls).resolve(key)
        rows: list[Any] = list(session.scalars(select(cls).filter_by(**dict(zip(names, values, strict=True)))).all())
        for row in rows:
            session.delete(row)
        session.flush()


def _attach(session: Session, obj: Any) -> Any:
    """Add a new instance; merge a copy of an existing row (a cache's transient copy, another session's).

    ``add`` of a transient copy of an existing row would INSERT it again; ``merge`` loads the row by primary key
    and applies the copy's values to it. A transient object whose row does not exist is added itself.
    """
    state = inspect(obj)
    if state.session is session:
        return obj
    if state.transient:
        mapper: Any = inspect(type(obj))
        pk = [getattr(obj, mapper.get_property_by_column(c).key, None) for c in mapper.primary_key]
        if any(v is None for v in pk) or session.get(type(obj), pk[0] if len(pk) == 1 else tuple(pk)) is None:
            session.add(obj)
            return obj
    return session.merge(obj)
