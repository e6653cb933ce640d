"""An in-process cache: thread-safe, optionally bounded (LRU), emptied in a forked child."""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from .base import KeyValueStore
from .expiry import Clock, Lifetime
from .serialize import JsonSerializer, Serializer

_instances: weakref.WeakSet[MemoryStore] = weakref.WeakSet()


def _clear_all_in_child() -> None:
    # a child must not serve what its parent cached: the parent goes on invalidating only its own copy
    for store in list(_instances):
        store._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_clear_all_in_child)


class MemoryStore(KeyValueStore):
    """Objects in a dict guarded by a lock; ``maxsize`` bounds the entries, the least recently used go first.

    Entries are snapshots made by ``serializer`` (JSON by default), so a caller mutating an object it got, or one
    it put, never changes what the cache serves, and mapped instances are not tied to a closed session. Pass
    ``serializer=None`` to keep references (faster; then never mutate cached objects).
    """

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
        self._data: OrderedDict[str, tuple[float | None, Any]] = OrderedDict()
        self._gens: dict[str, int] = {}
        self._lock = threading.RLock()
        super().__init__(classes, ttl=ttl, lifetime=lifetime, clock=clock, polymorphic=polymorphic)
        _instances.add(self)

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

    def _reset_after_fork(self) -> None:
        self._lock = threading.RLock()  # another thread may have held it at fork time
        self._data.clear()

    def _generations(self, namespaces: list[str]) -> dict[str, int]:
        with self._lock:
            return {ns: self._gens.get(ns, 0) for ns in namespaces}

    def _bump(self, namespaces: list[str]) -> None:
        with self._lock:
            for ns in namespaces:
                self._gens[ns] = self._gens.get(ns, 0) + 1
                prefix = f"{ns}#"
                for key in [k for k in self._data if k.startswith(prefix)]:
                    del self._data[key]

    def _mget(self, keys: list[str]) -> list[tuple[float | None, Any] | None]:
        found: list[tuple[float | None, Any] | None] = []
        with self._lock:
            for key in keys:
                entry = self._data.get(key)
                if entry is not None:
                    self._data.move_to_end(key)
                    if self._serializer is not None:
                        entry = (entry[0], self._serializer.loads(entry[1]))
                found.append(entry)
        return found

    def _mset(self, items: list[tuple[str, float | None, Any]]) -> None:
        with self._lock:
            for key, at, obj in items:
                data = self._serializer.dumps(obj) if self._serializer is not None else obj
                self._data[key] = (at, data)
                self._data.move_to_end(key)
            while self.maxsize is not None and len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def _mdelete(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)
