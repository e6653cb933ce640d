"""A Redis cache on redis-py: one atomic Lua script per operation, one pipeline per batch, outages as misses.

``redis`` is imported lazily (the ``redis`` extra). Keys are ``<prefix>:<version>:<namespace>#<generation>|...``:
bump ``version`` when the shape of cached objects changes and old entries are simply never read again.

Faults never reach the request and never leave a lie behind:

- a read costs one round trip, ``batch_put``/``batch_delete`` of any number of objects one as well;
- the first error or timeout opens a circuit breaker: for ``cooldown`` seconds the store does not touch Redis
  (reads miss and fall through to the next layer, fills are dropped), so a hung server costs one
  ``socket_timeout`` per cool-down, not one per read;
- an eviction (or a put: the old value must go) that fails is queued and retried, first thing, on the next use
  after the cool-down, before anything is read; if more than ``max_pending`` pile up, every class is forgotten
  instead when Redis is back;
- over a database, every entry carries a finite lifetime (a chain's ``stale_after``), so whatever was missed is
  gone at the latest that long after it was read, also after a restart from an RDB or AOF file.

``errors``, ``failed_evictions`` and ``round_trips`` count what happened.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import redis_scripts
from .base import KeyValueStore, NamedKey, Read
from .expiry import Clock, Lifetime
from .keys import key_part, namespace_of
from .serialize import JsonSerializer, Serializer

log = logging.getLogger("pyramid_polydatum.stores")

_Call = tuple[str, list[str], list[Any]]


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
        cooldown: float = 5.0,
        max_pending: int = 10_000,
    ) -> None:
        if client is None:
            if url is None:
                raise ValueError("give a redis client or a url")
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            client = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0),  # the breaker decides when to try again, not a retry loop
            )
        if not cooldown >= 0:
            raise ValueError("cooldown must be a number of seconds >= 0")
        self.client = client
        self.prefix = f"{prefix}:{version}:"
        self.serializer: Serializer = serializer or JsonSerializer()
        self.cooldown = cooldown
        self.errors = 0
        self.failed_evictions = 0
        self.round_trips = 0
        self._open_until = 0.0
        self._pending: collections.deque[_Call] = collections.deque()
        self._pending_lock = threading.Lock()
        self._max_pending = max_pending
        self._overflowed = False
        self._shas = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in redis_scripts.SCRIPTS.items()}
        super().__init__(classes, ttl=ttl, lifetime=lifetime, clock=clock, polymorphic=polymorphic)

    def register(self, cls: type) -> Any:
        spec = super().register(cls)
        self.serializer.register(cls)
        return spec

    # -- talking to Redis ----------------------------------------------------------------------------------

    def _errors(self) -> tuple[type[BaseException], ...]:
        import redis

        return (redis.RedisError, OSError)

    @property
    def available(self) -> bool:
        """False while the breaker is open (after an error, for ``cooldown`` seconds)."""
        return time.monotonic() >= self._open_until

    def _failed(self, action: str, error: BaseException) -> None:
        self.errors += 1
        self._open_until = time.monotonic() + self.cooldown
        log.warning("redis store: %s failed, treated as a miss for %.1fs: %s", action, self.cooldown, error)

    def _pipeline(self, calls: list[_Call]) -> list[Any]:
        """Run ``calls`` in one pipeline (one round trip); scripts missing after a restart are loaded once."""
        import redis

        results = self._execute(calls)
        if any(isinstance(r, redis.exceptions.NoScriptError) for r in results):
            for name in {name for name, _, _ in calls}:
                self.client.script_load(redis_scripts.SCRIPTS[name])
                self.round_trips += 1
            results = self._execute(calls)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def _execute(self, calls: list[_Call]) -> list[Any]:
        with self.client.pipeline(transaction=False) as pipe:
            for name, keys, args in calls:
                pipe.evalsha(self._shas[name], len(keys), *keys, *args)
            self.round_trips += 1
            return list(pipe.execute(raise_on_error=False))

    def _ready(self) -> bool:
        """Closed breaker and no queued eviction left: only then may Redis be read or written."""
        if not self.available:
            return False
        if not self._pending and not self._overflowed:
            return True
        with self._pending_lock:
            calls = list(self._pending)
            overflowed = self._overflowed
            self._pending.clear()
            self._overflowed = False
        if overflowed:
            calls.append(self._bump_call([namespace_of(c) for c in self._specs]))
        try:
            self._pipeline(calls)
        except self._errors() as error:
            self._failed("retrying evictions", error)
            self._queue(calls)
            return False
        return True

    def _queue(self, calls: list[_Call]) -> None:
        with self._pending_lock:
            for call in calls:
                if len(self._pending) >= self._max_pending:
                    self._pending.clear()
                    self._overflowed = True
                if not self._overflowed:
                    self._pending.append(call)

    def _evicting(self, calls: list[_Call], action: str) -> int:
        """Run eviction calls now, or queue them to run before anything else once Redis answers again."""
        if calls and self._ready():
            try:
                return sum(int(r) for r in self._pipeline(calls))
            except self._errors() as error:
                self._failed(action, error)
        self.failed_evictions += len(calls)
        self._queue(calls)
        return 0

    # -- building calls ------------------------------------------------------------------------------------

    def _state(self, ns: str) -> str:
        return f"{self.prefix}state:{ns}"

    def _entries(self, ns: str) -> str:
        return f"{self.prefix}{ns}#"

    def _put_call(
        self, obj: Any, at: float | None, token: Mapping[str, tuple[str, str]] | None, candidate: str
    ) -> _Call | None:
        parts = self._parts(obj)
        if token is not None and any(ns not in token for ns, _ in parts):
            return None
        now = self.expiry.clock()
        px = 0 if at is None else max(1, math.ceil((at - now) * 1000))
        args: list[Any] = ["fill" if token is not None else "put", candidate, json.dumps(at), px,
                           self.serializer.dumps(obj)]
        for ns, ns_parts in parts:
            seen = token[ns] if token is not None else ("", "0")
            args += [seen[0], seen[1], self._entries(ns), len(ns_parts), *ns_parts]
        return ("put", [self._state(ns) for ns, _ in parts], args)

    def _evict_call(self, doomed: Mapping[str, Iterable[str]]) -> _Call:
        args: list[Any] = []
        for ns, parts in doomed.items():
            parts = sorted(parts)
            args += [self._entries(ns), len(parts), *parts]
        return ("evict", [self._state(ns) for ns in doomed], args)

    def _bump_call(self, namespaces: list[str]) -> _Call:
        return ("bump", [self._state(ns) for ns in namespaces], [secrets.token_hex(8) for _ in namespaces])

    # -- the interface ---------------------------------------------------------------------------------------

    def put(self, obj: Any) -> None:
        self.batch_put([obj])

    def batch_put(self, objs: Iterable[Any]) -> None:
        """One round trip for any number of objects; on failure the old entries are queued for deletion."""
        objs = list(objs)
        calls: list[_Call] = []
        candidate = secrets.token_hex(8)
        for obj in objs:
            at = self.expiry.deadline_for(obj)
            call = self._put_call(obj, at, None, candidate) if not self.expiry.expired(at) else None
            calls.append(call or self._evict_call(dict(self._parts(obj))))
        if not calls:
            return
        if self._ready():
            try:
                self._pipeline(calls)
                return
            except self._errors() as error:
                self._failed("SET", error)
        self._evicting([self._evict_call(dict(self._parts(obj))) for obj in objs], "SET")

    def fill(self, objs: list[Any], token: Any, deadlines: list[float | None]) -> None:
        if token is None or not self._ready():
            return
        calls = []
        candidate = secrets.token_hex(8)
        for obj, cap in zip(objs, deadlines, strict=True):
            at = self._deadline(obj, cap)
            if not self.expiry.expired(at):
                call = self._put_call(obj, at, token, candidate)
                if call is not None:
                    calls.append(call)
        if calls:
            try:
                self._pipeline(calls)
            except self._errors() as error:
                self._failed("backfill", error)

    def lookup(self, cls: type, keys: Sequence[NamedKey]) -> list[Any]:
        return self.read(cls, keys).found

    def read(self, cls: type, keys: Sequence[NamedKey]) -> Read:
        self.spec(cls)
        misses = Read([None for _ in keys])
        if not keys or not self._ready():
            return misses
        namespaces = [namespace_of(cls)] + [ns for ns in self._related_namespaces(cls) if ns != namespace_of(cls)]
        parts = [key_part(names, values) for names, values in keys]
        call = ("read", [self._state(ns) for ns in namespaces], [self._entries(namespace_of(cls)), *parts])
        try:
            (raw,) = self._pipeline([call])
        except self._errors() as error:
            self._failed("reading", error)
            return misses
        states, values = raw[: 2 * len(namespaces)], raw[2 * len(namespaces):]
        token = {ns: (_text(states[2 * i]), _text(states[2 * i + 1])) for i, ns in enumerate(namespaces)}
        found: list[Any] = []
        deadlines: list[float | None] = []
        for (names, key_values), value in zip(keys, values, strict=True):
            entry = self._decode(value)
            if entry is None or self.expiry.expired(entry[0]) or not self._still_has(entry[1], names, key_values):
                found.append(None)
                deadlines.append(None)
            else:
                found.append(entry[1])
                deadlines.append(self._wall(entry[0]))
        return Read(found, token=token, deadlines=deadlines)

    def _decode(self, value: bytes | None) -> tuple[float | None, Any] | None:
        if value is None:
            return None
        try:
            head, _, body = value.partition(b"\n")
            at = json.loads(head)["at"]
            return at, self.serializer.loads(body)
        except Exception as error:  # noqa: BLE001 - a corrupt entry is a miss, not an error page
            self.errors += 1
            log.warning("redis store: an undecodable entry is treated as a miss: %s", error)
            return None

    def delete(self, obj: Any) -> bool:
        return self.batch_delete([obj]) == 1

    def batch_delete(self, objs: Iterable[Any]) -> int:
        """One round trip for any number of objects; how many were cached."""
        calls = [self._evict_call(dict(self._parts(obj))) for obj in objs]
        return self._evicting(calls, "DEL") if calls else 0

    def delete_key(self, cls: type, key: Any) -> bool:
        ((names, values),) = self.resolve(cls, [key])
        return self._evicting([self._evict_call({namespace_of(cls): [key_part(names, values)]})], "DEL") > 0

    def evict(self, cls: type, states: Iterable[Mapping[str, Any]]) -> None:
        doomed = self._state_parts(cls, states)
        if doomed:
            self._evicting([self._evict_call(doomed)], "evicting")

    def evict_class(self, cls: type) -> None:
        namespaces = self._related_namespaces(cls)
        if namespaces:
            self._evicting([self._bump_call(namespaces)], "changing a generation")

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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
