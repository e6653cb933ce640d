"""Evicting shared caches when a database commit changes what they hold, whoever made the change.

Every SQLAlchemy session (the store's or plain application code) is watched through session events:

- ``after_flush`` records each new, dirty and deleted instance of a class some cache holds, with its key
  attributes as they are now AND as they were before the flush (from attribute history): an alternate key that
  changed must stop finding the object under its old value too;
- ``do_orm_execute`` records bulk ORM ``update()``/``delete()`` statements by class: which rows they touched is
  unknown, so the whole class is forgotten (its generation number is bumped);
- ``after_commit`` evicts what was recorded, once the database has committed it; ``after_transaction_end`` of the
  outermost transaction drops the record, so a rollback leaves the caches exactly as they were.

Why the session's ``after_commit`` and not a ``transaction`` after-commit hook: a joined session is committed by
zope.sqlalchemy during the manager's two-phase commit, and its ``after_commit`` fires exactly when that database
commit has happened. A ``transaction`` after-commit hook reports the whole transaction's outcome: if another data
manager failed after this database committed, it would report failure, the caches would keep the old values and
lie. It would also miss sessions that are not joined (independent engines, plain sessions).

Not seen: raw SQL text (``session.execute(text("UPDATE ..."))``) and writes by other programs; call
``evict_class`` yourself, and give caches a TTL as the last line of defence.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .base import Store

log = logging.getLogger("pyramid_polydatum.stores")
_ids = itertools.count()


class CommitInvalidator:
    """Evicts ``stores`` (shared caches) on commit for changes made through sessions of ``target``.

    ``target`` is the ``Session`` class (every session, the default), a ``sessionmaker`` or a session.
    """

    def __init__(self, stores: Iterable[Store], target: Any = Session, local: Iterable[Store] = ()) -> None:
        self.stores = list(stores)
        #: per-context layers: they hold this unit's own writes, so a bulk statement forgets them at once
        self.local = list(local)
        self.target = target
        self._info_key = f"pyramid_polydatum.stores.pending.{next(_ids)}"
        self._attached = False
        self._epochs: dict[type, int] = {}

    def epoch(self, cls: type) -> int:
        """How many evictions touched ``cls`` in this process: a read that saw it change must not backfill."""
        return sum(self._epochs.get(c, 0) for c in cls.__mro__)

    def _classes(self) -> tuple[type, ...]:
        return tuple({c for store in [*self.stores, *self.local] for c in store.classes})

    def attach(self) -> CommitInvalidator:
        if not self._attached:
            event.listen(self.target, "after_flush", self._after_flush)
            event.listen(self.target, "do_orm_execute", self._do_orm_execute)
            event.listen(self.target, "after_commit", self._after_commit)
            event.listen(self.target, "after_transaction_end", self._after_transaction_end)
            self._attached = True
        return self

    def detach(self) -> None:
        if self._attached:
            event.remove(self.target, "after_flush", self._after_flush)
            event.remove(self.target, "do_orm_execute", self._do_orm_execute)
            event.remove(self.target, "after_commit", self._after_commit)
            event.remove(self.target, "after_transaction_end", self._after_transaction_end)
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

    def _do_orm_execute(self, state: Any) -> None:
        if not (state.is_update or state.is_delete):
            return
        mapper = state.bind_arguments.get("mapper")
        classes = self._classes()
        if mapper is None:
            return
        target = mapper.class_
        if any(issubclass(target, c) or issubclass(c, target) for c in classes):
            self._pending(state.session)["classes"].add(target)
        for store in self.local:
            store.evict_class(target)

    def _after_commit(self, session: Session) -> None:
        pending = session.info.pop(self._info_key, None)
        if pending:
            self.evict(pending["objects"], pending["classes"])

    def _after_transaction_end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(self._info_key, None)  # rolled back: the caches stay as they were

    def evict(self, objects: Iterable[tuple[type, list[dict[str, Any]]]], classes: Iterable[type] = ()) -> None:
        """Evict ``(class, [attribute states])`` and whole ``classes`` from every store; errors are only logged."""
        objects, classes = list(objects), list(classes)
        for cls in [*classes, *(c for c, _ in objects)]:
            self._epochs[cls] = self._epochs.get(cls, 0) + 1
        for store in self.stores:
            try:
                for cls in classes:
                    store.evict_class(cls)
                for cls, states in objects:
                    store.evict(cls, states)
            except Exception:
                log.exception("evicting %r after a commit failed", store)


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
