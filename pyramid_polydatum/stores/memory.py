"""An in-process cache: thread-safe, optionally bounded (LRU), emptied in a forked child.

Every operation runs whole under one lock, and the keys of one object are one group: written together, evicted
together, and dropped together by the size bound. So an alternate key never outlives its primary entry, and two
threads putting the same object with different alternate keys leave one consistent group.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..sessions.forksafe import register_after_fork
from .base import KeyValueStore, NamedKey, Read
from .expiry import Clock, Lifetime
from .keys import key_part, namespace_of
from .serialize import JsonSerializer, Serializer


class _Entry:
    __slots__ = ("at", "data", "group")

    def __init__(self, at: float | None, data: Any, group: tuple[str, ...]) -> None:
        self.at, self.data, self.group = at, data, group


class MemoryStore(KeyValueStore):
    """Objects in a dict guarded by a lock; ``maxsize`` bounds the entries, the least recently used go first.

    Entries are snapshots made by ``serializer`` (JSON by default), so a caller mutating an object it got, or one
    it put, never changes what the cache serves, and mapped instances are not tied to a closed session. Pass
    ``copy=False`` to keep references (faster; then never mutate cached objects).

    A memory cache is seen by its own process only: a commit in another process cannot evict it. Over a SQL
    store, a ``ChainedStore`` therefore accepts it only when told the deployment is a single process.
    """

    process_local = True

    def __init__(
        self,
        classes: Iterable[type] = (),
        *,
        maxsize: int | None = None,
        ttl: Lifetime = None,
        lifetime: Callable[[Any], Lifetime] | None = None,
        clock: Clock | None = None,
        polymorphic: bool = False,
        serializer: Serializer | None = None,
        copy: bool = True,
    ) -> None:
        if maxsize is not None and maxsize < 1:
            raise ValueError("maxsize must be a positive number of entries, or None")
        self.maxsize = maxsize
        self._serializer: Serializer | None = (serializer or JsonSerializer()) if copy else None
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._gens: dict[str, int] = {}
        self._seq: dict[str, int] = {}  # evictions per namespace: a backfill read before one is refused
        self._lock = threading.RLock()
        super().__init__(classes, ttl=ttl, lifetime=lifetime, clock=clock, polymorphic=polymorphic)
        if self.shared:  # a per-context store lives in one process anyway
            register_after_fork(self)

    def register(self, cls: type) -> Any:
        spec = super().register(cls)
        if self._serializer is not None:
            self._serializer.register(cls)
        return spec

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def after_fork(self) -> None:
        """A child must not serve what its parent cached: the parent goes on invalidating only its own copy."""
        self._lock = threading.RLock()  # another thread may have held it at fork time
        self._data.clear()

    # -- internals, always under the lock ------------------------------------------------------------------

    def _key(self, ns: str, part: str) -> str:
        return f"{ns}#{self._gens.get(ns, 0)}|{part}"

    def _drop(self, key: str) -> bool:
        """Remove the entry under ``key`` and every other key of its group."""
        entry = self._data.pop(key, None)
        if entry is None:
            return False
        for other in entry.group:
            sibling = self._data.get(other)
            if sibling is not None and sibling.group is entry.group:
                del self._data[other]
        return True

    def _store(self, obj: Any, at: float | None) -> None:
        keys = tuple(self._key(ns, part) for ns, parts in self._parts(obj) for part in parts)
        for key in keys:  # whatever group held one of these keys is replaced as a whole
            self._drop(key)
        if self.expiry.expired(at) or not keys:
            return
        data = self._serializer.dumps(obj) if self._serializer is not None else obj
        for key in keys:
            self._data[key] = _Entry(at, data, keys)
        while self.maxsize is not None and len(self._data) > self.maxsize:
            self._drop(next(iter(self._data)))

    def _lookup(self, cls: type, keys: Sequence[NamedKey]) -> tuple[list[Any], list[float | None]]:
        ns = namespace_of(cls)
        found: list[Any] = []
        deadlines: list[float | None] = []
        for names, values in keys:
            key = self._key(ns, key_part(names, values))
            entry = self._data.get(key)
            obj = None
            if entry is not None:
                if self.expiry.expired(entry.at):
                    self._drop(key)
                    entry = None
                else:
                    for member in entry.group:  # the whole group is recently used
                        if member in self._data:
                            self._data.move_to_end(member)
                    obj = self._serializer.loads(entry.data) if self._serializer is not None else entry.data
                    if not self._still_has(obj, names, values):  # a reference changed under the cache: a miss
                        self._drop(key)
                        obj, entry = None, None
            found.append(obj)
            deadlines.append(self._wall(entry.at) if entry is not None else None)
        return found, deadlines

    # -- the interface ---------------------------------------------------------------------------------------

    def put(self, obj: Any) -> None:
        self.related_classes(type(obj))
        with self._lock:
            self._store(obj, self.expiry.deadline_for(obj))

    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        self.spec(cls)
        with self._lock:
            return self._lookup(cls, keys)[0]

    def read(self, cls: type, keys: Sequence[NamedKey]) -> Read:
        self.spec(cls)
        with self._lock:
            found, deadlines = self._lookup(cls, keys)
            return Read(found, token=dict(self._seq), deadlines=deadlines)

    def fill(self, objs: list[Any], token: Any, deadlines: list[float | None]) -> None:
        with self._lock:
            for obj, cap in zip(objs, deadlines, strict=True):
                namespaces = [ns for ns, _ in self._parts(obj)]
                if any(self._seq.get(ns, 0) != token.get(ns, 0) for ns in namespaces):
                    continue  # evicted since it was read below: what was read may be older than the eviction
                self._store(obj, self._deadline(obj, cap))

    def delete(self, obj: Any) -> bool:
        with self._lock:
            keys = [self._key(ns, part) for ns, parts in self._parts(obj) for part in parts]
            return any([self._drop(key) for key in keys])

    def delete_key(self, cls: type, key: Any) -> bool:
        ((names, values),) = self.resolve(cls, [key])
        with self._lock:
            return self._drop(self._key(namespace_of(cls), key_part(names, values)))

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        with self._lock:
            for ns, parts in self._state_parts(cls, states).items():
                self._seq[ns] = self._seq.get(ns, 0) + 1
                for part in parts:
                    self._drop(self._key(ns, part))

    def evict_class(self, cls: type) -> None:
        with self._lock:
            for ns in self._related_namespaces(cls):
                self._gens[ns] = self._gens.get(ns, 0) + 1
                self._seq[ns] = self._seq.get(ns, 0) + 1
                prefix = f"{ns}#"
                for key in [k for k in self._data if k.startswith(prefix)]:
                    del self._data[key]
