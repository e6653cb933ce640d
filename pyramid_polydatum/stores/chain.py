"""Layers of stores: reads top-down with backfill, writes to the persistent (last) layer first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from . import sequence
from .base import NamedKey, Read, Store
from .invalidation import CommitInvalidator
from .keys import StoreError, key_part

_MISSING = object()

#: The default bound, in seconds, on how long a shared cache over a database may serve a value after a commit
#: changed it, whatever failed (see the README's consistency model).
DEFAULT_STALE_AFTER = 60.0


class ChainedStore(Store):
    """``layers[0]`` is the fastest (per-context, then memory, then Redis), ``layers[-1]`` the persistent one.

    Reads: the first layer that has the object wins (a falsy object is still a hit) and the layers above it are
    backfilled; ``batch_get`` asks each lower layer only for the keys still missing. Keys are resolved once per
    operation and passed down resolved. Once the unit of work wrote to a transactional last layer, shared layers
    are skipped: they may hold what it changed, until it commits.

    Writes go to the last layer first. If it is transactional (SQL), shared layers are not written at all: they
    would hold uncommitted data. A ``CommitInvalidator`` evicts them when the database commits instead, and the
    per-context layer (not shared) takes the write so the unit of work reads its own writes. If the last layer is
    itself a cache, the write goes through every layer.

    Over a transactional layer, every entry a shared layer is given expires at most ``stale_after`` seconds after
    the data was read from the database, and a backfill never overwrites an eviction that happened after the read.
    A process-local layer (``MemoryStore``) over a transactional one is refused unless ``single_process=True``:
    commits of other processes cannot evict it.

    Every class registered with one layer is registered with every layer when the chain is built (a layer that
    cannot hold it raises then), so every verb follows the same rules.
    """

    def __init__(
        self,
        layers: Sequence[Store],
        invalidate: bool = True,
        *,
        stale_after: float = DEFAULT_STALE_AFTER,
        single_process: bool = False,
    ) -> None:
        if not layers:
            raise ValueError("a ChainedStore needs at least one layer")
        if isinstance(stale_after, bool) or not (0 < stale_after < math.inf):
            raise ValueError(f"stale_after must be a positive, finite number of seconds, not {stale_after!r}")
        self.layers = list(layers)
        self.persistent = self.layers[-1]
        self.stale_after = float(stale_after)
        self.invalidator: CommitInvalidator | None = None
        if self.persistent.transactional and not single_process:
            local = [layer for layer in self.layers[:-1] if layer.shared and layer.process_local]
            if local:
                raise StoreError(
                    f"{type(local[0]).__name__} over {type(self.persistent).__name__}: an in-process cache is "
                    "evicted by this process's commits only, so with several processes (workers) it serves what "
                    "another process changed; use RedisStore for a shared cache, or pass single_process=True if "
                    "exactly one process writes this database"
                )
        super().__init__(polymorphic=any(layer.polymorphic for layer in self.layers))
        for cls in list(dict.fromkeys(c for layer in self.layers for c in layer.classes)):
            self.register(cls)
        if invalidate and self.persistent.transactional:
            shared = [layer for layer in self.layers[:-1] if layer.shared]
            local_layers = [layer for layer in self.layers[:-1] if not layer.shared]
            if shared or local_layers:
                targets = getattr(self.persistent, "session_targets", None)
                invalidator = CommitInvalidator(shared, local=local_layers)
                if targets:
                    invalidator.targets = list(targets)
                self.invalidator = invalidator.attach()

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

    # -- writes --------------------------------------------------------------------------------------------

    def put(self, obj: Any) -> None:
        self.batch_put([obj])

    def batch_put(self, objs: Iterable[Any]) -> None:
        objs = list(objs)
        for obj in objs:
            self.related_classes(type(obj))
        self.persistent.batch_put(objs)
        for layer in reversed(self._upper_for_write()):
            layer.batch_put(objs)

    def delete(self, obj: Any) -> bool:
        return self.batch_delete([obj]) == 1

    def batch_delete(self, objs: Iterable[Any]) -> int:
        """Delete from the last layer, then from the layers above (shared ones over SQL are evicted at commit)."""
        objs = list(objs)
        for obj in objs:
            self.related_classes(type(obj))
        deleted = self.persistent.batch_delete(objs)
        for layer in self._upper_for_write():
            layer.batch_delete(objs)
        return deleted

    def delete_key(self, cls: type, key: Any) -> bool:
        self.resolve(cls, [key])
        deleted = self.persistent.delete_key(cls, key)
        for layer in self._upper_for_write():
            layer.delete_key(cls, key)
        return deleted

    # -- reads ---------------------------------------------------------------------------------------------

    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        if not keys:
            return []
        results: list[Any] = [_MISSING] * len(keys)
        reads: list[Read | None] = [None] * len(self.layers)
        started = sequence.current()
        # once this unit of work wrote, shared layers may hold what it changed: read past them (read-your-writes)
        skip_shared = self.persistent.transactional and not self.persistent.reads_committed()
        for depth, layer in enumerate(self.layers):
            if skip_shared and layer.shared:
                continue
            missing = [i for i, r in enumerate(results) if r is _MISSING]
            if not missing:
                break
            typed = {_typed(keys[i]): keys[i] for i in missing}  # 1, True and 1.0 are three keys
            wanted = list(typed)
            read = layer.read(cls, [typed[k] for k in wanted])
            reads[depth] = read
            hits = {k: i for i, k in enumerate(wanted) if read.found[i] is not None}
            if not hits:
                continue
            for i in missing:
                position = hits.get(_typed(keys[i]))
                if position is not None:
                    results[i] = read.found[position]
            self._backfill(depth, read, list(hits.values()), cls, started, reads)
        return [None if r is _MISSING else r for r in results]

    def _backfill(
        self, depth: int, read: Read, positions: list[int], cls: type, started: int, reads: list[Read | None]
    ) -> None:
        """Put what layer ``depth`` found into the layers above it.

        Shared layers above a transactional source are filled only from a read the source vouches for: committed
        data (not this unit's own writes), with no eviction of the class in this process since it was fresh
        (``as_of``); each expires ``stale_after`` seconds after that moment at the latest. Each shared layer then
        refuses the fill itself if it was evicted since it was read (compare-and-set against its ``token``).
        """
        source = self.layers[depth]
        seen: dict[int, int] = {}
        for position in positions:
            seen.setdefault(id(read.found[position]), position)
        objs = [read.found[p] for p in seen.values()]
        deadlines: list[float | None]
        shareable = True
        if source.transactional:
            as_of = read.as_of
            if as_of is None or sequence.evicted_since(cls, min(as_of[0], started)):
                shareable = False
            deadlines = [as_of[1] + self.stale_after if as_of is not None else None for _ in objs]
        else:
            source_deadlines = read.deadlines or [None] * len(read.found)
            deadlines = [source_deadlines[p] for p in seen.values()]
        for upper in range(depth):
            layer, above = self.layers[upper], reads[upper]
            if layer.shared and not shareable:
                continue
            if above is None:  # skipped on the way down (this unit wrote): never filled
                continue
            layer.fill(objs, above.token, deadlines)


def _typed(key: NamedKey) -> tuple[tuple[str, ...], str]:
    names, values = key
    return names, key_part(names, values)
