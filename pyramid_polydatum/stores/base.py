"""The store interface, and the key-value logic shared by the memory, per-context and Redis stores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from .expiry import Clock, Expiry, Lifetime
from .keys import KeyNames, KeySpec, StoreError, cache_key, namespace_of

#: A key of one class: the declared attribute names and their values.
NamedKey = tuple[KeyNames, tuple[Any, ...]]


class Store(ABC):
    """put/get/delete over one backend. Classes are registered (and their keys checked) at configuration.

    ``shared`` stores are seen by other units of work (memory, Redis): they must never receive uncommitted data.
    ``transactional`` stores (SQL) hold writes until their transaction commits.
    """

    shared = False
    transactional = False

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

    # -- the interface ---------------------------------------------------------------------------------------

    @abstractmethod
    def put(self, obj: Any) -> None: ...

    @abstractmethod
    def get(self, cls: type, key: Any) -> Any: ...

    @abstractmethod
    def delete(self, obj: Any) -> None: ...

    @abstractmethod
    def delete_key(self, cls: type, key: Any) -> None: ...

    def batch_put(self, objs: Iterable[Any]) -> None:
        for obj in objs:
            self.put(obj)

    def batch_get(self, cls: type, keys: Sequence[Any]) -> list[Any]:
        """Objects aligned with ``keys``: None for each miss, each duplicate filled."""
        return [self.get(cls, key) for key in keys]

    def batch_delete(self, objs: Iterable[Any]) -> None:
        for obj in objs:
            self.delete(obj)

    def reads_committed(self) -> bool:
        """True when what this store reads now is committed data (a transactional store may see its own writes)."""
        return True

    # -- invalidation (caches only) ----------------------------------------------------------------------------

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        """Forget the entries of ``cls`` found by any key of ``states`` (attribute values, old and new)."""
        return None

    def evict_class(self, cls: type) -> None:
        """Forget every entry of ``cls`` (and of its registered relatives): a bulk statement changed the table."""
        return None


class KeyValueStore(Store):
    """A cache over primitive multi-get/set/delete of serialized entries, with expiry and per-class generations.

    Each object is stored whole under each of its keys (one round trip per read, whichever key). ``put`` first
    reads the entry under the primary key so that keys the object no longer has are deleted: an alternate key that
    changed must stop finding it. A class's namespace carries a generation number; bumping it forgets the whole
    class at once, which is how bulk statements are invalidated.
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

    # primitives
    @abstractmethod
    def _generations(self, namespaces: list[str]) -> dict[str, int]: ...

    @abstractmethod
    def _bump(self, namespaces: list[str]) -> None: ...

    @abstractmethod
    def _mget(self, keys: list[str]) -> list[tuple[float | None, Any] | None]: ...

    @abstractmethod
    def _mset(self, items: list[tuple[str, float | None, Any]]) -> None: ...

    @abstractmethod
    def _mdelete(self, keys: list[str]) -> None: ...

    # keys
    def _key(self, gens: dict[str, int], cls: type, names: KeyNames, values: tuple[Any, ...]) -> str:
        ns = namespace_of(cls)
        return cache_key(f"{ns}#{gens.get(ns, 0)}", names, values)

    def _object_keys(self, obj: Any, gens: dict[str, int]) -> list[str]:
        keys = []
        for cls in self.related_classes(type(obj)):
            keys += [self._key(gens, cls, n, v) for n, v in self._specs[cls].values_of(obj)]
        return keys

    def _gens_for(self, classes: Iterable[type]) -> dict[str, int]:
        return self._generations(sorted({namespace_of(c) for c in classes}))

    # the interface
    def put(self, obj: Any) -> None:
        classes = self.related_classes(type(obj))
        gens = self._gens_for(classes)
        at = self.expiry.deadline_for(obj)
        new_keys = self._object_keys(obj, gens)
        stale = set(self._stored_keys(obj, gens)) - set(new_keys)
        if self.expiry.expired(at):
            self._mdelete(sorted(stale | set(new_keys)))
            return
        if stale:
            self._mdelete(sorted(stale))
        self._mset([(key, at, obj) for key in new_keys])

    def _stored_keys(self, obj: Any, gens: dict[str, int]) -> list[str]:
        """Keys of what is stored now under ``obj``'s primary key (its old alternate keys included)."""
        spec = self.spec(type(obj)) if type(obj) in self._specs else self._specs[self.related_classes(type(obj))[0]]
        primary = [(n, v) for n, v in spec.values_of(obj) if n == spec.keys[0]]
        if not primary:
            return []
        found = self._mget([self._key(gens, spec.cls, *primary[0])])[0]
        return self._object_keys(found[1], gens) if found is not None else []

    def get(self, cls: type, key: Any) -> Any:
        return self.batch_get(cls, [key])[0]

    def batch_get(self, cls: type, keys: Sequence[Any]) -> list[Any]:
        if not keys:
            return []
        spec = self.spec(cls)
        named_keys = [spec.resolve(key) for key in keys]  # a lookup error raises even when the backend is down
        gens = self._gens_for([cls])
        wanted = [self._key(gens, cls, *named) for named in named_keys]
        resolved = dict(zip(wanted, named_keys, strict=True))
        unique = list(dict.fromkeys(wanted))
        found: dict[str, Any] = {}
        expired = []
        for k, entry in zip(unique, self._mget(unique), strict=True):
            if entry is None:
                continue
            names, values = resolved[k]
            current = tuple(getattr(entry[1], n, None) for n in names)
            if self.expiry.expired(entry[0]) or cache_key("", names, current) != cache_key("", names, values):
                # expired, or the object no longer has this key (a reference changed under the cache): a miss
                expired.append(k)
                continue
            found[k] = entry[1]
        if expired:
            self._mdelete(expired)
        return [found.get(k) for k in wanted]

    def delete(self, obj: Any) -> None:
        gens = self._gens_for(self.related_classes(type(obj)))
        keys = set(self._object_keys(obj, gens)) | set(self._stored_keys(obj, gens))
        self._mdelete(sorted(keys))

    def delete_key(self, cls: type, key: Any) -> None:
        named = self.spec(cls).resolve(key)
        gens = self._gens_for([cls])
        k = self._key(gens, cls, *named)
        entry = self._mget([k])[0]
        if entry is not None:
            self.delete(entry[1])
        self._mdelete([k])

    def batch_delete(self, objs: Iterable[Any]) -> None:
        for obj in objs:
            self.delete(obj)

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        targets = [c for c in cls.__mro__ if c in self._specs]
        if not targets:
            return
        gens = self._gens_for(targets)
        doomed: set[str] = set()
        for state in states:
            snapshot = SimpleNamespace(**state)
            for target in targets:
                for names, values in self._specs[target].values_of(snapshot):
                    doomed.add(self._key(gens, target, names, values))
                spec = self._specs[target]
                primary = [(n, v) for n, v in spec.values_of(snapshot) if n == spec.keys[0]]
                if primary:
                    entry = self._mget([self._key(gens, target, *primary[0])])[0]
                    if entry is not None:
                        doomed.update(self._object_keys(entry[1], gens))
        if doomed:
            self._mdelete(sorted(doomed))

    def evict_class(self, cls: type) -> None:
        related = [c for c in self._specs if issubclass(c, cls) or issubclass(cls, c)]
        if related:
            self._bump(sorted({namespace_of(c) for c in related}))
