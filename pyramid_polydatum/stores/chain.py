"""Layers of stores: reads top-down with backfill, writes to the persistent (last) layer first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .base import Store
from .invalidation import CommitInvalidator

_MISSING = object()


class ChainedStore(Store):
    """``layers[0]`` is the fastest (per-context, then memory, then Redis), ``layers[-1]`` the persistent one.

    Reads: the first layer that has the object wins (a falsy object is still a hit) and the layers above it are
    backfilled; ``batch_get`` asks each lower layer only for the keys still missing. Once the unit of work wrote to
    a transactional last layer, shared layers are skipped: they may hold what it changed, until it commits.

    Writes go to the last layer first. If it is transactional (SQL), shared layers are not written at all: they
    would hold uncommitted data. A ``CommitInvalidator`` evicts them when the database commits instead, and the
    per-context layer (not shared) takes the write so the unit of work reads its own writes. If the last layer is
    itself a cache, the write goes through every layer.
    """

    def __init__(self, layers: Sequence[Store], invalidate: bool = True) -> None:
        if not layers:
            raise ValueError("a ChainedStore needs at least one layer")
        self.layers = list(layers)
        self.persistent = self.layers[-1]
        self.invalidator: CommitInvalidator | None = None
        super().__init__(polymorphic=any(layer.polymorphic for layer in self.layers))
        for layer in self.layers:
            for cls in layer.classes:
                self._specs.setdefault(cls, layer.spec(cls))
        if invalidate and self.persistent.transactional:
            shared = [layer for layer in self.layers[:-1] if layer.shared]
            local = [layer for layer in self.layers[:-1] if not layer.shared]
            if shared or local:
                self.invalidator = CommitInvalidator(shared, local=local).attach()

    def register(self, cls: type) -> Any:
        spec = super().register(cls)
        for layer in getattr(self, "layers", ()):
            layer.register(cls)
        return spec

    def close(self) -> None:
        """Stop watching sessions (tests, reconfiguration)."""
        if self.invalidator is not None:
            self.invalidator.detach()

    def _upper_for_write(self) -> list[Store]:
        if self.persistent.transactional:
            return [layer for layer in self.layers[:-1] if not layer.shared]
        return self.layers[:-1]

    def put(self, obj: Any) -> None:
        self.persistent.put(obj)
        for layer in reversed(self._upper_for_write()):
            layer.put(obj)

    def batch_put(self, objs: Iterable[Any]) -> None:
        objs = list(objs)
        self.persistent.batch_put(objs)
        for layer in reversed(self._upper_for_write()):
            layer.batch_put(objs)

    def delete(self, obj: Any) -> None:
        self.persistent.delete(obj)
        for layer in self.layers[:-1]:
            if not (layer.shared and self.persistent.transactional):
                layer.delete(obj)

    def batch_delete(self, objs: Iterable[Any]) -> None:
        for obj in list(objs):
            self.delete(obj)

    def delete_key(self, cls: type, key: Any) -> None:
        obj = self.persistent.get(cls, key)
        if obj is not None:
            self.delete(obj)
        else:
            for layer in self.layers[:-1]:
                layer.delete_key(cls, key)

    def get(self, cls: type, key: Any) -> Any:
        return self.batch_get(cls, [key])[0]

    def batch_get(self, cls: type, keys: Sequence[Any]) -> list[Any]:
        if not keys:
            return []
        self.spec(cls).resolve(keys[0])
        results: list[Any] = [_MISSING] * len(keys)
        epoch = self.invalidator.epoch(cls) if self.invalidator is not None else 0
        # once this unit of work wrote, shared layers may hold what it changed: read past them (read-your-writes)
        skip_shared = self.persistent.transactional and not self.persistent.reads_committed()
        for depth, layer in enumerate(self.layers):
            if skip_shared and layer.shared:
                continue
            missing = [i for i, r in enumerate(results) if r is _MISSING]
            if not missing:
                break
            wanted = list(dict.fromkeys(_hashable(keys[i]) for i in missing))
            found = layer.batch_get(cls, [_unhash(k) for k in wanted])
            hits = {k: obj for k, obj in zip(wanted, found, strict=True) if obj is not None}
            if not hits:
                continue
            for i in missing:
                k = _hashable(keys[i])
                if k in hits:
                    results[i] = hits[k]
            self._backfill(depth, list({id(o): o for o in hits.values()}.values()), cls, epoch)
        return [None if r is _MISSING else r for r in results]

    def _backfill(self, depth: int, objs: list[Any], cls: type, epoch: int) -> None:
        """Put what layer ``depth`` found into the layers above it.

        What a transactional layer read may include this unit of work's own uncommitted writes: then shared
        layers are not backfilled (they would serve it to everyone, and keep it after a rollback). Nor are they when
        a commit evicted the class while this read ran: what was read may be the row as it was before that commit.
        """
        source = self.layers[depth]
        clean = not source.transactional or source.reads_committed()
        if self.invalidator is not None and self.invalidator.epoch(cls) != epoch:
            clean = False
        for layer in self.layers[:depth]:
            if layer.shared and not clean:
                continue
            layer.batch_put(objs)


def _hashable(key: Any) -> Any:
    if isinstance(key, dict):
        return ("__dict__", tuple(sorted(key.items())))
    return key


def _unhash(key: Any) -> Any:
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "__dict__":
        return dict(key[1])
    return key
