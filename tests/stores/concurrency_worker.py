"""Writers and readers of the stale-read count, in threads of this process or in separate processes.

A writer updates its rows (``name = "v<n>"``, n increasing) in units of work and, once a commit has returned
(the eviction included), publishes ``n`` in Redis. A reader reads the published ``n`` of a row, then reads the
row through the chain: a value older than what was committed before the read began is a stale read.

Run as ``python -m tests.stores.concurrency_worker ROLE THREADS SECONDS`` with ``POLYDATUM_TEST_DB``,
``POLYDATUM_TEST_REDIS`` and ``POLYDATUM_TEST_PREFIX`` set; it prints one JSON line of counts.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

ROWS = 6


def build(db_url: str, redis_url: str, prefix: str) -> tuple[Any, Any, Any]:
    import redis

    from pyramid_polydatum import DataManager
    from pyramid_polydatum.sessions import EngineRegistry, install_sessions
    from pyramid_polydatum.stores import ChainedStore, RedisStore, SQLAlchemyStore

    from .models import Row

    registry = EngineRegistry()
    registry.add("writer", db_url)
    dm = install_sessions(DataManager(), registry)
    store = RedisStore(redis.Redis.from_url(redis_url), [Row], prefix=prefix)
    chain = ChainedStore([store, SQLAlchemyStore(dm, [Row], registry=registry)])
    return dm, chain, registry


def _version(name: str) -> int:
    return int(name[1:])


def run(role: str, threads: int, seconds: float, db_url: str, redis_url: str, prefix: str) -> dict[str, int]:
    import redis

    from .models import Row

    dm, chain, registry = build(db_url, redis_url, prefix)
    board = redis.Redis.from_url(redis_url)
    counts = {"reads": 0, "stale": 0, "commits": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def writer(index: int) -> None:
        mine = [k for k in range(ROWS) if k % threads == index]
        n = int(time.time() * 1000) * 10 + index  # increasing across runs and processes
        while time.monotonic() < stop:
            k = random.choice(mine)
            n += 10
            with dm.context() as ctx:
                ctx.db.writer.get(Row, k).name = f"v{n}"
            board.set(f"{prefix}:committed:{k}", n)  # only now: the commit and its evictions returned
            with lock:
                counts["commits"] += 1

    def reader(index: int) -> None:
        rng = random.Random(index)
        while time.monotonic() < stop:
            k = rng.randrange(ROWS)
            floor = int(board.get(f"{prefix}:committed:{k}") or 0)
            key: Any = k if rng.random() < 0.5 else {"tenant": 1, "slug": f"s{k}"}
            with dm.context():
                version = _version(chain.get(Row, key).name)
            with lock:
                counts["reads"] += 1
                if version < floor:
                    counts["stale"] += 1

    def guarded(index: int) -> None:
        try:
            (writer if role == "writer" else reader)(index)
        except Exception:
            with lock:
                counts["errors"] += 1
            raise

    workers = [threading.Thread(target=guarded, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    chain.close()
    board.close()
    registry.dispose()
    return counts


if __name__ == "__main__":
    role, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    env = os.environ
    result = run(role, threads, seconds, env["POLYDATUM_TEST_DB"], env["POLYDATUM_TEST_REDIS"],
                 env["POLYDATUM_TEST_PREFIX"])
    print(json.dumps(result))
