"""Several writers and readers, threads and processes, on PostgreSQL and Redis: stale reads counted.

No fault is injected: the chain's bound ``stale_after`` (60 s) is longer than the run, so every stale read counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from tests import services

from .concurrency_worker import ROWS, run
from .conftest import _sql_env
from .models import Row

SECONDS = float(os.environ.get("POLYDATUM_STALE_RUN_SECONDS", "3"))


@pytest.fixture
def pg_env(request, registries):
    yield from _sql_env(request, registries, "postgresql")


@pytest.fixture
def rows(pg_env, redis_store_factory):
    store = redis_store_factory([Row])  # for its unique prefix, deleted afterwards
    with pg_env.dm.context() as ctx:
        ctx.db.writer.add_all([Row(id=k, tenant=1, slug=f"s{k}", name="v0") for k in range(ROWS)])
    url = pg_env.registry.writer.engine.url.render_as_string(hide_password=False)
    return url, store.prefix.split(":")[0]


def test_threads_of_writers_and_readers_read_nothing_stale(rows):
    url, prefix = rows
    results = {}

    def go(role, threads):
        results[role] = run(role, threads, SECONDS, url, services.REDIS_URL, prefix)

    workers = [threading.Thread(target=go, args=("writer", 2)), threading.Thread(target=go, args=("reader", 6))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("threads:", results)
    assert results["writer"]["commits"] > 0 and results["reader"]["reads"] > 0
    assert results["reader"]["errors"] == results["writer"]["errors"] == 0
    assert results["reader"]["stale"] == 0


def test_processes_of_writers_and_readers_read_nothing_stale(rows):
    url, prefix = rows
    env = {**os.environ, "POLYDATUM_TEST_DB": url, "POLYDATUM_TEST_REDIS": services.REDIS_URL,
           "POLYDATUM_TEST_PREFIX": prefix}
    command = [sys.executable, "-m", "tests.stores.concurrency_worker"]
    roles = [("writer", 2), ("reader", 3), ("reader", 3)]
    processes = [
        subprocess.Popen([*command, role, str(n), str(SECONDS)], env=env, stdout=subprocess.PIPE, text=True)
        for role, n in roles
    ]
    try:
        outputs = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    print("processes:", outputs)
    assert all(p.returncode == 0 for p in processes)
    reads = sum(o["reads"] for o in outputs[1:])
    assert outputs[0]["commits"] > 0 and reads > 0
    assert sum(o["errors"] for o in outputs) == 0
    assert sum(o["stale"] for o in outputs[1:]) == 0
