"""Writers and readers as requests to gunicorn workers (``--preload``): stale reads counted across processes.

The app (``gunicorn_app.py``) serves a ``ChainedStore`` of a private redis-server over PostgreSQL. Writer threads
of this test send ``/write`` requests for their own rows with increasing versions, and record a version as
committed once its response has arrived (pyramid_tm committed and evicted before that). Reader threads record the
committed version of a row, then read it through ``/read``, served by any worker: an answer older than that is a
stale read. The chain's bound ``stale_after`` (60 s) is longer than the run, so every stale read counts.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.services import stop_server

from .concurrency_worker import ROWS
from .conftest import _sql_env
from .models import Row
from .redis_server import _die_with_parent, free_port

SECONDS = float(os.environ.get("POLYDATUM_STALE_RUN_SECONDS", "3"))
WORKERS = 3
WRITERS, READERS = 2, 6
PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


@pytest.fixture
def pg_env(request, registries):
    yield from _sql_env(request, registries, "postgresql")


def _get(port: int, path: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return json.loads(body)  # type: ignore[no-any-return]


@pytest.fixture
def gunicorn(request, tmp_path, pg_env, private_redis):
    """gunicorn --preload with WORKERS workers serving the app, on a free port; stopped whatever happens."""
    with pg_env.dm.context() as ctx:
        ctx.db.writer.add_all([Row(id=k, tenant=1, slug=f"s{k}", name="v0") for k in range(ROWS)])
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}
    env["POLYDATUM_TEST_DB"] = pg_env.registry.writer.engine.url.render_as_string(hide_password=False)
    env["POLYDATUM_TEST_REDIS"] = private_redis.url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--preload", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
             "--no-control-socket", "--graceful-timeout", "5", "tests.stores.gunicorn_app:make_app()"],
            cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers are stopped with it
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # a killed run kills it
        )
    request.addfinalizer(lambda: stop_server(process))

    def log_tail() -> str:
        return log_path.read_text(errors="replace")[-3000:]

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_tail()}")
        try:
            _get(port, "/read?k=0")
            break
        except (OSError, http.client.HTTPException, RuntimeError):
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within {START_TIMEOUT} s:\n{log_tail()}")
            time.sleep(0.1)
    return port, process, log_tail


def test_gunicorn_workers_writing_and_reading_read_nothing_stale(gunicorn):
    port, process, log_tail = gunicorn
    committed = dict.fromkeys(range(ROWS), 0)  # row -> the last version whose write request returned
    counts = {"reads": 0, "cached": 0, "stale": 0, "commits": 0, "errors": 0}
    readers_pids: set[int] = set()
    writers_pids: set[int] = set()
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def writer(index: int) -> None:
        rng = random.Random(f"writer {index}")
        mine = [k for k in range(ROWS) if k % WRITERS == index]  # one writer per row: its versions only grow
        n = 0
        while time.monotonic() < stop:
            k, n = rng.choice(mine), n + 1
            answer = _get(port, f"/write?k={k}&n={n}&how={rng.choice(['orm', 'put'])}")
            with lock:
                committed[k] = n
                counts["commits"] += 1
                writers_pids.add(answer["pid"])

    def reader(index: int) -> None:
        rng = random.Random(f"reader {index}")
        while time.monotonic() < stop:
            k = rng.randrange(ROWS)
            with lock:
                floor = committed[k]
            answer = _get(port, f"/read?k={k}&by={rng.choice(['id', 'slug'])}")
            with lock:
                counts["reads"] += 1
                counts["cached"] += answer["cached"]
                counts["stale"] += answer["version"] < floor
                readers_pids.add(answer["pid"])

    def guarded(target: Any, index: int) -> None:
        try:
            target(index)
        except Exception:
            with lock:
                counts["errors"] += 1
            raise

    threads = [threading.Thread(target=guarded, args=(writer, i)) for i in range(WRITERS)]
    threads += [threading.Thread(target=guarded, args=(reader, i)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 30)
    print("gunicorn:", counts, "workers:", len(readers_pids | writers_pids))
    assert not any(thread.is_alive() for thread in threads), "a client thread is still waiting"
    assert counts["errors"] == 0, log_tail()
    assert process.pid not in readers_pids | writers_pids
    assert len(readers_pids | writers_pids) > 1, "one worker served everything: no other process read"
    assert counts["commits"] > 0 and counts["reads"] > 0
    assert 0 < counts["cached"] < counts["reads"], "Redis served no read (or every read): nothing was raced"
    assert counts["stale"] == 0
