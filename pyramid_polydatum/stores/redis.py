"""A Redis cache on redis-py: native TTL, MGET, pipelines, a data-only serializer, and outages as misses.

``redis`` is imported lazily (the ``redis`` extra). Keys are ``<prefix>:<version>:<namespace>#<generation>|...``:
bump ``version`` when the shape of cached objects changes and old entries are simply never read again.
A Redis error never reaches the request: reads miss, writes are dropped, both logged and counted in ``errors``.
Evictions that failed during an outage are counted too (``failed_evictions``): entries written before the outage
may then be stale until their TTL ends, so give shared Redis caches a TTL.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

from .base import KeyValueStore
from .expiry import Clock, Lifetime
from .serialize import JsonSerializer, Serializer

log = logging.getLogger("pyramid_polydatum.stores")


class RedisStore(KeyValueStore):
    """Objects serialized (JSON by default; ``PickleSerializer`` only by explicit choice) in Redis."""

    def __init__(
        self,
        client: Any = None,
        classes: Iterable[type] = (),
        *,
        url: str | None = None,
        prefix: str = "polydatum",
        version: str = "1",
        ttl: Lifetime = None,
        lifetime: Callable[[Any], Lifetime] | None = None,
        clock: Clock | None = None,
        polymorphic: bool = False,
        serializer: Serializer | None = None,
        socket_timeout: float = 0.5,
    ) -> None:
        if client is None:
            if url is None:
                raise ValueError("give a redis client or a url")
            import redis

            client = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.client = client
        self.prefix = f"{prefix}:{version}:"
        self.serializer: Serializer = serializer or JsonSerializer()
        self.errors = 0
        self.failed_evictions = 0
        super().__init__(classes, ttl=ttl, lifetime=lifetime, clock=clock, polymorphic=polymorphic)

    def register(self, cls: type) -> Any:
        spec = super().register(cls)
        self.serializer.register(cls)
        return spec

    def _failed(self, action: str, error: BaseException) -> None:
        self.errors += 1
        log.warning("redis store: %s failed, treated as a miss: %s", action, error)

    def _errors(self) -> tuple[type[Exception], ...]:
        import redis

        return (redis.RedisError, OSError)

    def _generations(self, namespaces: list[str]) -> dict[str, int]:
        if not namespaces:
            return {}
        try:
            raw = self.client.mget([f"{self.prefix}gen:{ns}" for ns in namespaces])
        except self._errors() as error:
            self._failed("reading generations", error)
            raise _Unavailable from error
        return {ns: int(v) if v is not None else 0 for ns, v in zip(namespaces, raw, strict=True)}

    def _bump(self, namespaces: list[str]) -> None:
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for ns in namespaces:
                    pipe.incr(f"{self.prefix}gen:{ns}")
                pipe.execute()
        except self._errors() as error:
            self.failed_evictions += 1
            self._failed("bumping a generation", error)

    def _mget(self, keys: list[str]) -> list[tuple[float | None, Any] | None]:
        try:
            raw = self.client.mget([self.prefix + k for k in keys])
        except self._errors() as error:
            self._failed("MGET", error)
            return [None for _ in keys]
        found: list[tuple[float | None, Any] | None] = []
        for value in raw:
            if value is None:
                found.append(None)
                continue
            try:
                head, _, body = value.partition(b"\n")
                at = json.loads(head)
                found.append((at, self.serializer.loads(body)))
            except Exception as error:  # noqa: BLE001 - a corrupt entry is a miss, not an error page
                self._failed("decoding an entry", error)
                found.append(None)
        return found

    def _mset(self, items: list[tuple[str, float | None, Any]]) -> None:
        now = self.expiry.clock()
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for key, at, obj in items:
                    body = json.dumps(at).encode() + b"\n" + self.serializer.dumps(obj)
                    px = None if at is None else max(1, math.ceil((at - now) * 1000))
                    pipe.set(self.prefix + key, body, px=px)
                pipe.execute()
        except self._errors() as error:
            self._failed("SET", error)

    def _mdelete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            self.client.delete(*[self.prefix + k for k in keys])
        except self._errors() as error:
            self.failed_evictions += 1
            self._failed("DEL", error)

    # an outage while reading generations: reads miss, writes and deletes are dropped (counted above)
    def put(self, obj: Any) -> None:
        try:
            super().put(obj)
        except _Unavailable:
            return

    def batch_get(self, cls: type, keys: Any) -> list[Any]:
        try:
            return super().batch_get(cls, keys)
        except _Unavailable:
            return [None for _ in keys]

    def delete(self, obj: Any) -> None:
        try:
            super().delete(obj)
        except _Unavailable:
            self.failed_evictions += 1

    def delete_key(self, cls: type, key: Any) -> None:
        try:
            super().delete_key(cls, key)
        except _Unavailable:
            self.failed_evictions += 1

    def evict(self, cls: type, states: Any) -> None:
        try:
            super().evict(cls, states)
        except _Unavailable:
            self.failed_evictions += 1

    def clear(self) -> None:
        """Delete every key under this store's prefix and version (SCAN, not KEYS)."""
        try:
            batch = []
            for key in self.client.scan_iter(match=f"{self.prefix}*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    self.client.delete(*batch)
                    batch = []
            if batch:
                self.client.delete(*batch)
        except self._errors() as error:
            self._failed("clearing", error)


class _Unavailable(Exception):
    """Redis could not be reached for a generation read; the operation degrades."""
