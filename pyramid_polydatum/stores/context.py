"""A per-context store: an identity cache that lives and dies with one context (one unit of work).

It holds references (no copies), is never seen by another context, and so may hold uncommitted writes: inside
a unit of work, reads see that unit's own pending writes. Register the resource, then put a ``ContextLayer`` on
top of a ``ChainedStore``::

    dm.register_resources(store_cache=context_store_resource(classes=[User]))
    store = ChainedStore([ContextLayer(dm, "store_cache", classes=[User]), RedisStore(...), sql_store])
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import NamedKey, Store
from .memory import MemoryStore

if TYPE_CHECKING:
    from ..core.context import DataAccessContext
    from ..core.manager import DataManager


class ContextStore(MemoryStore):
    """An unbounded identity cache of references, for one context only."""

    shared = False
    process_local = False

    def __init__(self, classes: Iterable[type] = (), *, polymorphic: bool = False) -> None:
        super().__init__(classes, polymorphic=polymorphic, copy=False)


def context_store_resource(
    classes: Iterable[type] = (), polymorphic: bool = False
) -> Callable[[DataAccessContext], Generator[ContextStore, None, None]]:
    """A resource factory giving each context its own ``ContextStore``, emptied when the context ends."""
    classes = tuple(classes)
    for cls in classes:  # keys checked at configuration, not in the first request
        ContextStore([cls])

    def store_cache(context: DataAccessContext) -> Generator[ContextStore, None, None]:
        store = ContextStore(classes, polymorphic=polymorphic)
        try:
            yield store
        finally:
            store.clear()

    return store_cache


class ContextLayer(Store):
    """The active context's ``ContextStore`` as a store; outside a context it is empty and writes are dropped."""

    def __init__(
        self, data_manager: DataManager, resource: str, classes: Iterable[type] = (), polymorphic: bool = False
    ) -> None:
        self._data_manager = data_manager
        self._resource = resource
        super().__init__(classes, polymorphic)

    def current(self) -> MemoryStore | None:
        context = self._data_manager.get_active_context()
        if context is None:
            return None
        store: MemoryStore = getattr(context, self._resource)
        for cls in self.classes:
            store.register(cls)
        return store

    def put(self, obj: Any) -> None:
        self.related_classes(type(obj))
        store = self.current()
        if store is not None:
            store.put(obj)

    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        self.spec(cls)
        store = self.current()
        if store is None:
            return [None for _ in keys]
        return store.lookup(cls, keys)

    def delete(self, obj: Any) -> bool:
        store = self.current()
        return store.delete(obj) if store is not None else False

    def delete_key(self, cls: type, key: Any) -> bool:
        self.resolve(cls, [key])
        store = self.current()
        return store.delete_key(cls, key) if store is not None else False

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        store = self.current()
        if store is not None:
            store.evict(cls, states)

    def evict_class(self, cls: type) -> None:
        store = self.current()
        if store is not None:
            store.evict_class(cls)
