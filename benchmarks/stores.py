"""Stores: a MemoryStore hit and a RedisStore hit vs a primary-key read from PostgreSQL, and batch_get of 100 keys.

Skipped with a note when the stores do not import; the Redis rows with a note when Redis is not reachable.
"""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import apps
from .wsgi import interleave


def run(rounds: int, batch: int, pg_reader_url: str | None) -> list[tuple]:
    try:
        from pyramid_polydatum.stores.memory import MemoryStore
    except Exception as error:  # noqa: BLE001 - any import failure means the stores are not ready
        return [("stores", f"stores not available ({type(error).__name__}: {error})", None, None, None)]
    try:
        store = MemoryStore([apps.Item])
        items = [apps.Item(id=i, name=f"item {i}") for i in range(1, 101)]
        store.batch_put(items)
        keys = list(range(1, 101))
        if store.get(apps.Item, 1) is None or len([x for x in store.batch_get(apps.Item, keys) if x]) != 100:
            raise RuntimeError("MemoryStore did not return what was put")
        callers = {
            "MemoryStore.get hit": lambda: store.get(apps.Item, 1),
            "MemoryStore.batch_get 100 keys": lambda: store.batch_get(apps.Item, keys),
        }
        callers.update(_redis_callers(items, keys))
        engine = None
        if pg_reader_url:
            engine = create_engine(pg_reader_url)

            def pg_get() -> None:
                with Session(engine) as session:
                    session.get(apps.Item, 1)

            callers["PostgreSQL session.get (new session)"] = pg_get
        medians = interleave(callers, rounds, batch)
        if engine is not None:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - placeholder: report, do not break the other benchmarks
        return [("stores", f"stores not available ({type(error).__name__}: {error})", None, None, None)]
    ref = medians.get("PostgreSQL session.get (new session)")
    return [("stores", name, value, ref, None) for name, value in medians.items()]


def _redis_callers(items: list, keys: list[int]) -> dict:
    """RedisStore hits on 127.0.0.1 (a throwaway prefix); none when Redis is not reachable."""
    import uuid

    try:
        from pyramid_polydatum.stores.redis import RedisStore
        from tests.services import REDIS_URL

        store = RedisStore(url=REDIS_URL, classes=[apps.Item], prefix=f"bench-{uuid.uuid4().hex[:8]}")
        store.batch_put(items)
        if store.get(apps.Item, 1) is None:
            return {}
    except Exception:  # noqa: BLE001 - Redis is optional for the benchmark
        return {}
    before = store.round_trips
    store.batch_put(items)
    trips = store.round_trips - before
    return {
        "RedisStore.get hit": lambda: store.get(apps.Item, 1),
        "RedisStore.batch_get 100 keys": lambda: store.batch_get(apps.Item, keys),
        f"RedisStore.batch_put {len(items)} objects ({trips} round trip{'s' if trips != 1 else ''})":
            lambda: store.batch_put(items),
    }
