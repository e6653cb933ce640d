"""The store interface, and the key logic shared by the memory, per-context and Redis caches.

Every operation resolves its keys once (``KeySpec.resolve``) and passes the resolved keys down (``lookup``), so
a chain of layers never re-interprets a key: ``1``, ``True`` and ``1.0`` are three keys on every path.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .expiry import Clock, Expiry, Lifetime
from .keys import KeyNames, KeySpec, StoreError, key_part, namespace_of

#: A resolved key of one class: the declared attribute names and their values.
NamedKey = tuple[KeyNames, tuple[Any, ...]]


@dataclass
class Read:
    """What one layer found for a chain, and what the chain needs to backfill the layers above it safely.

    ``token``: the layer's eviction state when it was read (a cache only accepts a backfill while it is
    unchanged: compare-and-set). ``deadlines``: when each found entry expires (a cache's entries, in wall-clock
    epoch seconds whatever the store's own clock), so a backfilled copy never outlives its source. ``as_of``: for
    a database read, the process-wide eviction sequence number and the wall-clock time at which the data read was
    at the latest current, or None when that cannot be told (then shared caches are not backfilled).
    """

    found: list[Any]
    token: Any = None
    deadlines: list[float | None] | None = None
    as_of: tuple[int, float] | None = None


class Store(ABC):
    """put/get/delete over one backend. Classes are registered (and their keys checked) at configuration.

    ``shared`` stores are seen by other units of work (memory, Redis): they must never receive uncommitted data.
    ``transactional`` stores (SQL) hold writes until their transaction commits. ``process_local`` caches (memory)
    are seen by one process only: another process's commits cannot evict them.
    """

    shared = False
    transactional = False
    process_local = False

    def __init__(self, classes: Iterable[type] = (), polymorphic: bool = False) -> None:
        self.polymorphic = polymorphic
        self._specs: dict[type, KeySpec] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type) -> KeySpec:
        """Declare that ``cls`` is stored here; its keys are checked now (``UnknownKeyError`` if they cannot work)."""
        spec = self._specs.get(cls)
        if spec is None:
            spec = self._specs[cls] = KeySpec.for_class(cls)
        return spec

    @property
    def classes(self) -> tuple[type, ...]:
        return tuple(self._specs)

    def spec(self, cls: type) -> KeySpec:
        try:
            return self._specs[cls]
        except KeyError:
            raise StoreError(f"{cls.__qualname__} is not registered with {type(self).__name__}") from None

    def related_classes(self, cls: type) -> list[type]:
        """``cls`` and, with ``polymorphic``, its registered base classes: where an object of ``cls`` is stored."""
        found = [c for c in cls.__mro__ if c in self._specs and (c is cls or self.polymorphic)]
        if not found:
            raise StoreError(f"{cls.__qualname__} is not registered with {type(self).__name__}")
        return found

    def resolve(self, cls: type, keys: Iterable[Any]) -> list[NamedKey]:
        """Each lookup as the declared key it means; ``UnknownKeyError`` (even when a backend is down)."""
        spec = self.spec(cls)
        return [spec.resolve(key) for key in keys]

    # -- the interface ---------------------------------------------------------------------------------------

    @abstractmethod
    def put(self, obj: Any) -> None: ...

    @abstractmethod
    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        """Objects aligned with the resolved ``keys``: None for each miss."""

    @abstractmethod
    def delete(self, obj: Any) -> bool:
        """Remove the object under every key; True when something was removed, False when nothing was there."""

    @abstractmethod
    def delete_key(self, cls: type, key: Any) -> bool:
        """Remove the object found by ``key`` (under all its keys); True when one was removed."""

    def get(self, cls: type, key: Any) -> Any:
        return self.lookup(cls, self.resolve(cls, [key]))[0]

    def batch_get(self, cls: type, keys: Sequence[Any]) -> list[Any]:
        """Objects aligned with ``keys``: None for each miss, each duplicate filled."""
        if not keys:
            return []
        return self.lookup(cls, self.resolve(cls, keys))

    def batch_put(self, objs: Iterable[Any]) -> None:
        for obj in objs:
            self.put(obj)

    def batch_delete(self, objs: Iterable[Any]) -> int:
        """Delete each object; how many were there."""
        return sum(1 for obj in list(objs) if self.delete(obj))

    def reads_committed(self) -> bool:
        """True when what this store reads now is committed data (a transactional store may see its own writes)."""
        return True

    # -- for a chain: reads that tell how they may be backfilled, and backfills that cannot overwrite an eviction

    def read(self, cls: type, keys: Sequence[NamedKey]) -> Read:
        return Read(self.lookup(cls, keys))

    def fill(self, objs: list[Any], token: Any, deadlines: list[float | None]) -> None:
        """Backfill ``objs`` read from a lower layer, unless this store was evicted since ``token`` was read."""
        for obj in objs:
            self.put(obj)

    # -- invalidation (caches only) ----------------------------------------------------------------------------

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        """Forget the entries of ``cls`` found by any key of ``states`` (attribute values, old and new)."""
        return None

    def evict_class(self, cls: type) -> None:
        """Forget every entry of ``cls`` (and of its registered relatives): a bulk statement changed the table."""
        return None


class KeyValueStore(Store):
    """A cache of serialized entries under typed keys, with expiry and per-class generations.

    Each object is stored whole under each of its keys (one lookup per read, whichever key), and the keys of one
    object form a group that is written, evicted and dropped together: an alternate key never outlives the
    object's primary entry. A class's namespace carries a generation; changing it forgets the whole class at
    once, which is how bulk statements are invalidated.
    """

    shared = True

    def __init__(
        self,
        classes: Iterable[type] = (),
        *,
        ttl: Lifetime = None,
        lifetime: Callable[[Any], Lifetime] | None = None,
        clock: Clock | None = None,
        polymorphic: bool = False,
    ) -> None:
        self.expiry = Expiry(ttl, lifetime, clock)
        super().__init__(classes, polymorphic)

    def _parts(self, obj: Any) -> list[tuple[str, list[str]]]:
        """``[(namespace, [key parts])]`` for every class ``obj`` is stored as; the primary key's part first."""
        found = []
        for cls in self.related_classes(type(obj)):
            parts = [key_part(n, v) for n, v in self._specs[cls].values_of(obj)]
            if parts:
                found.append((namespace_of(cls), parts))
        return found

    def _state_parts(self, cls: type, states: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
        """Key parts of attribute snapshots, per namespace of ``cls`` and its registered bases."""
        doomed: dict[str, set[str]] = {}
        targets = [c for c in cls.__mro__ if c in self._specs]
        for state in states:
            for target in targets:
                spec = self._specs[target]
                for names in spec.keys:
                    values = tuple(state.get(n) for n in names)
                    if all(v is not None for v in values):
                        doomed.setdefault(namespace_of(target), set()).add(key_part(names, values))
        return doomed

    def _related_namespaces(self, cls: type) -> list[str]:
        """Namespaces a bulk change of ``cls`` touches: its registered bases and subclasses."""
        return sorted({namespace_of(c) for c in self._specs if issubclass(c, cls) or issubclass(cls, c)})

    def _deadline(self, obj: Any, cap: float | None) -> float | None:
        """The object's deadline on this store's clock, capped by ``cap`` (wall-clock epoch seconds)."""
        own = self.expiry.deadline_for(obj)
        if cap is None:
            return own
        local = cap - time.time() + self.expiry.clock()
        return local if own is None else min(own, local)

    def _wall(self, at: float | None) -> float | None:
        """A deadline on this store's clock as wall-clock epoch seconds (what a chain passes between layers)."""
        return None if at is None else at - self.expiry.clock() + time.time()

    @staticmethod
    def _still_has(obj: Any, names: KeyNames, values: tuple[Any, ...]) -> bool:
        """The entry's object still has the key it was found under (a reference may have changed it)."""
        return key_part(names, tuple(getattr(obj, n, None) for n in names)) == key_part(names, values)
