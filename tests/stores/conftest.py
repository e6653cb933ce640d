"""Store fixtures: a Redis client with a unique prefix, SQL databases with the test tables, every backend."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import EngineRegistry, install_sessions
from pyramid_polydatum.stores import (
    ChainedStore,
    ContextLayer,
    MemoryStore,
    RedisStore,
    SQLAlchemyStore,
    Store,
    context_store_resource,
)
from tests import services

from .models import Base, Item, Loose, Row, Truck, Vehicle


@pytest.fixture
def redis_store_factory() -> Iterator[Callable[..., RedisStore]]:
    """RedisStores under a prefix unique to this test, on the test db number; all keys deleted afterwards."""
    reason = services.port_open("127.0.0.1", 6379)
    if reason:
        services.unavailable("Redis", reason)
    import redis

    client = redis.Redis.from_url(services.REDIS_URL)
    prefix = f"polydatum-test-{secrets.token_hex(4)}"
    made: list[RedisStore] = []

    def make(classes: Any = (), **options: Any) -> RedisStore:
        store = RedisStore(client, classes, prefix=prefix, **options)
        made.append(store)
        return store

    yield make
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@dataclass
class SqlEnv:
    dm: DataManager
    registry: EngineRegistry
    dialect: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    def store(self, classes: Any = (Row,), *, watch_every_session: bool = False) -> SQLAlchemyStore:
        """A SQL store watching this registry's sessionmakers (or, if asked, every ``Session``)."""
        return SQLAlchemyStore(self.dm, classes, registry=None if watch_every_session else self.registry)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_env(request: pytest.FixtureRequest, registries: list[EngineRegistry]) -> Iterator[SqlEnv]:
    yield from _sql_env(request, registries, request.param)


def _sql_env(request: pytest.FixtureRequest, registries: list[EngineRegistry], dialect: str) -> Iterator[SqlEnv]:
    database = request.getfixturevalue(f"{dialect}_database")
    registry = EngineRegistry()
    registry.add("writer", database.writer_url)
    registries.append(registry)
    engine = registry.writer.engine
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    dm = install_sessions(DataManager(), registry)
    dm.register_resources(store_cache=context_store_resource([Item, Row]))
    env = SqlEnv(dm, registry, dialect)
    yield env
    for close in env.closers:
        close()
    Base.metadata.drop_all(engine)


@dataclass
class Backend:
    """One backend for the contract suite: its store, the class it keeps, and a unit of work to run it in."""

    store: Store
    cls: type
    unit: Callable[[], contextlib.AbstractContextManager[Any]]

    def make(self, id: Any, tenant: int = 1, slug: str = "a", name: str = "") -> Any:
        return self.cls(id=id, tenant=tenant, slug=slug, name=name)


BACKENDS = [
    "memory", "memory-nocopy", "redis", "chain-memory-redis",
    "sqla-sqlite", "sqla-postgresql", "chain-sqlite", "chain-postgresql",
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    kind = request.param
    if kind == "memory":
        yield Backend(MemoryStore([Item]), Item, contextlib.nullcontext)
    elif kind == "memory-nocopy":
        yield Backend(MemoryStore([Item], copy=False), Item, contextlib.nullcontext)
    elif kind == "redis":
        yield Backend(request.getfixturevalue("redis_store_factory")([Item]), Item, contextlib.nullcontext)
    elif kind == "chain-memory-redis":
        redis_store = request.getfixturevalue("redis_store_factory")([Item])
        yield Backend(ChainedStore([MemoryStore([Item]), redis_store]), Item, contextlib.nullcontext)
    else:
        dialect = kind.split("-")[1]
        envs = _sql_env(request, request.getfixturevalue("registries"), dialect)
        env = next(envs)
        if kind.startswith("sqla"):
            yield Backend(env.store([Row, Loose, Vehicle, Truck]), Row, env.dm.context)
        else:
            layers = [ContextLayer(env.dm, "store_cache", [Row]), MemoryStore([Row]), env.store()]
            chain = ChainedStore(layers, single_process=True)
            yield Backend(chain, Row, env.dm.context)
            chain.close()
        next(envs, None)


@pytest.fixture
def private_redis(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A redis-server of this test only (killed and its directory removed afterwards, whatever happened)."""
    import shutil

    executable = shutil.which("redis-server")
    if executable is None:
        services.unavailable("redis-server", "no redis-server executable on PATH (apt-get install redis-server)")
    pytest.importorskip("redis")
    from .redis_server import PrivateRedis

    server = PrivateRedis(str(executable), str(tmp_path_factory.mktemp("redis")))
    request.addfinalizer(server.stop)
    server.start()
    yield server
