"""Evicting shared caches when a database commit changes what they hold, whoever made the change.

The sessions of ``target`` (the sessionmakers a ``SQLAlchemyStore`` reads from, else every ``Session``) are
watched through session events, installed when the invalidator is attached (a chain attaches its own when it is
built), never at import:

- ``after_flush`` records each new, dirty and deleted instance of a class some cache holds, with its key
  attributes as they are now AND as they were before the flush (from attribute history): an alternate key that
  changed must stop finding the object under its old value too;
- ``do_orm_execute`` records INSERT/UPDATE/DELETE statements executed through a session, ORM or Core (``update(
  Row)``, ``update(row_table)``, ``insert(Row).on_conflict_do_update(...)``), by the classes mapped to their
  table: which rows they touched is unknown, so the whole class is forgotten (its generation is changed);
- the engines' ``before_execute`` does the same for DML sent on a connection a session's transaction holds,
  outside a flush: the legacy bulk API (``bulk_update_mappings``, ``bulk_insert_mappings``,
  ``bulk_save_objects``), which emits no session event, and ``session.connection().execute(...)``;
- ``after_commit`` evicts what was recorded, once the database has committed it; ``after_transaction_end`` of the
  outermost transaction drops the record, so a rollback leaves the caches exactly as they were.

Why the session's ``after_commit`` and not a ``transaction`` after-commit hook: a joined session is committed by
zope.sqlalchemy during the manager's two-phase commit, and its ``after_commit`` fires exactly when that database
commit has happened. A ``transaction`` after-commit hook reports the whole transaction's outcome: if another data
manager failed after this database committed, it would report failure, the caches would keep the old values and
lie. It would also miss sessions that are not joined (independent engines, plain sessions).

Not seen: raw SQL text (``session.execute(text("UPDATE ..."))``: which table it writes is not known), DML on a
connection no session holds, and writes by other programs. Call ``evict_class`` yourself; the chain's
``stale_after`` bounds how long any of them can be served.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from . import sequence
from .base import Store

log = logging.getLogger("pyramid_polydatum.stores")
_ids = itertools.count()


class CommitInvalidator:
    """Evicts ``stores`` (shared caches) on commit for changes made through sessions of ``target``.

    ``target`` is the ``Session`` class (every session, the default), a ``sessionmaker`` or a session, or a list
    of them.
    """

    def __init__(self, stores: Iterable[Store], target: Any = Session, local: Iterable[Store] = ()) -> None:
        self.stores = list(stores)
        #: per-context layers: they hold this unit's own writes, so a bulk statement forgets them at once
        self.local = list(local)
        self.targets = list(target) if isinstance(target, list | tuple) else [target]
        number = next(_ids)
        self._info_key = f"pyramid_polydatum.stores.pending.{number}"
        self._flushing_key = f"pyramid_polydatum.stores.flushing.{number}"
        self._connections_key = f"pyramid_polydatum.stores.connections.{number}"
        self._attached = False

    def _classes(self) -> tuple[type, ...]:
        return tuple({c for store in [*self.stores, *self.local] for c in store.classes})

    def attach(self) -> CommitInvalidator:
        if not self._attached:
            for target in self.targets:
                for name, listener in self._listeners():
                    event.listen(target, name, listener)
            # a connection's DML is attributed through connection.info, set only for this invalidator's sessions
            event.listen(Engine, "before_execute", self._before_execute)
            self._attached = True
        return self

    def _listeners(self) -> list[tuple[str, Any]]:
        return [
            ("after_begin", self._after_begin),
            ("before_flush", self._before_flush),
            ("after_flush", self._after_flush),
            ("after_flush_postexec", self._after_flush_postexec),
            ("do_orm_execute", self._do_orm_execute),
            ("after_commit", self._after_commit),
            ("after_transaction_end", self._after_transaction_end),
        ]

    def detach(self) -> None:
        if self._attached:
            for target in self.targets:
                for name, listener in self._listeners():
                    event.remove(target, name, listener)
            event.remove(Engine, "before_execute", self._before_execute)
            self._attached = False

    def _pending(self, session: Session) -> dict[str, Any]:
        pending: dict[str, Any] = session.info.setdefault(self._info_key, {"objects": [], "classes": set()})
        return pending

    def _after_flush(self, session: Session, flush_context: Any) -> None:
        classes = self._classes()
        if not classes:
            return
        changed = itertools.chain(session.new, session.dirty, session.deleted)
        for obj in changed:
            if not isinstance(obj, classes):
                continue
            self._pending(session)["objects"].append((type(obj), _states(obj)))

    def _after_begin(self, session: Session, transaction: Any, connection: Any) -> None:
        info = connection.info  # the pooled DBAPI connection's dict: kept to clean it when the transaction ends
        info[self._info_key] = session.info
        session.info.setdefault(self._connections_key, []).append(info)

    def _before_flush(self, session: Session, flush_context: Any, instances: Any) -> None:
        session.info[self._flushing_key] = True  # a flush's own DML is recorded by after_flush, object by object

    def _after_flush_postexec(self, session: Session, flush_context: Any) -> None:
        session.info.pop(self._flushing_key, None)

    def _before_execute(self, conn: Any, clause: Any, multiparams: Any, params: Any, options: Any) -> None:
        info = conn.info.get(self._info_key)
        if info is None or info.get(self._flushing_key) or not getattr(clause, "is_dml", False):
            return
        table = getattr(clause, "table", None)
        found = {cls for cls in self._classes() if table is not None and table in _tables_of(cls)}
        if found:
            pending = info.setdefault(self._info_key, {"objects": [], "classes": set()})
            pending["classes"].update(found)
            for store in self.local:
                for cls in found:
                    store.evict_class(cls)

    def _do_orm_execute(self, state: Any) -> None:
        if not (state.is_update or state.is_delete or state.is_insert):
            return
        targets = _written_classes(state, self._classes())
        for target in targets:
            self._pending(state.session)["classes"].add(target)
            for store in self.local:
                store.evict_class(target)

    def _after_commit(self, session: Session) -> None:
        pending = session.info.pop(self._info_key, None)
        if pending:
            self.evict(pending["objects"], pending["classes"])

    def _after_transaction_end(self, session: Session, transaction: Any) -> None:
        session.info.pop(self._flushing_key, None)  # a failed flush ends its transaction, not after_flush_postexec
        if transaction.parent is None:
            session.info.pop(self._info_key, None)  # rolled back: the caches stay as they were
            for info in session.info.pop(self._connections_key, []):
                if info.get(self._info_key) is session.info:
                    del info[self._info_key]

    def evict(self, objects: Iterable[tuple[type, list[dict[str, Any]]]], classes: Iterable[type] = ()) -> None:
        """Evict ``(class, [attribute states])`` and whole ``classes`` from every store; errors are only logged."""
        objects, classes = list(objects), list(classes)
        sequence.record([*classes, *(c for c, _ in objects)])  # before the caches: a racing backfill sees it
        for store in self.stores:
            try:
                for cls in classes:
                    store.evict_class(cls)
                for cls, states in objects:
                    store.evict(cls, states)
            except Exception:
                log.exception("evicting %r after a commit failed", store)


def _written_classes(state: Any, classes: tuple[type, ...]) -> set[type]:
    """The cached classes a DML statement may change: its ORM entity's relatives, and those mapped to its table."""
    found: set[type] = set()
    mapper = state.bind_arguments.get("mapper")
    if mapper is not None:
        target = mapper.class_
        found.update(c for c in classes if issubclass(target, c) or issubclass(c, target))
    table = getattr(state.statement, "table", None)
    if table is not None:
        found.update(cls for cls in classes if table in _tables_of(cls))
    return found


def _tables_of(cls: type) -> list[Any]:
    mapper: Any = inspect(cls, raiseerr=False)
    return list(getattr(mapper, "tables", ()))


def _states(obj: Any) -> list[dict[str, Any]]:
    """The object's column values now and, where a flush changed them, before (no SQL is emitted)."""
    insp = inspect(obj)
    current = dict(insp.dict)
    old = dict(current)
    for attr in insp.mapper.column_attrs:
        history = insp.attrs[attr.key].history
        if history.deleted:
            old[attr.key] = history.deleted[0]
    current = {k: v for k, v in current.items() if not k.startswith("_")}
    old = {k: v for k, v in old.items() if not k.startswith("_")}
    return [current] if old == current else [current, old]
