"""Fork safety against a real PostgreSQL: a child process never talks over a socket its parent opened.

A connection shared across ``fork()`` is one socket written by two processes; the symptoms are protocol desyncs,
"SSL error: decryption failed or bad record mac", or the child closing the parent's connection. These tests fork
for real (``os.fork`` and prefork servers) and compare PostgreSQL backend pids, which identify the server-side
session a connection talks to: two processes reporting the same backend pid share a socket.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from pyramid_polydatum.sessions import EngineRegistry, forksafe
from tests.services import stop_server

pytestmark = pytest.mark.postgresql

BACKEND_PID = text("SELECT pg_backend_pid()")
#: Error texts of a socket shared between processes: none may ever show up in a child.
SHARED_SOCKET_SYMPTOMS = ("bad record", "ssl", "protocol", "lost synchronization", "unexpected", "closed")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def _postgresql_only(postgresql_database):
    """Every test here needs the server: skip (or fail under POLYDATUM_REQUIRE_SERVICES) as the fixture decides."""


@pytest.fixture
def isolated_callbacks(monkeypatch) -> weakref.WeakSet[Any]:
    """A fresh, empty after-fork set of the module's own kind, so that calling the callbacks in this process resets
    only this test's registries (and a set that holds its owners strongly is still caught)."""
    callbacks = type(forksafe._after_fork_callbacks)()
    monkeypatch.setattr(forksafe, "_after_fork_callbacks", callbacks)
    return callbacks


def make_registry(registries: list[EngineRegistry], url: str) -> EngineRegistry:
    registry = EngineRegistry()
    registry.add("writer", url)
    registries.append(registry)
    return registry


def backend_pid_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(BACKEND_PID)


# -- os.fork -------------------------------------------------------------------------------------------------


def run_in_children(count: int, target: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    """Fork ``count`` children running ``target``; return what each reported (``{"error": ...}`` if it raised).

    A child never returns into pytest: it always leaves through ``os._exit`` in a ``finally``. Children that
    outlive ``CHILD_TIMEOUT`` are killed and reported as errors.
    """
    children: dict[int, int] = {}  # pid -> read end of its pipe
    for _ in range(count):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            status = 1
            try:
                os.close(read_fd)
                try:
                    report = target()
                    status = 0
                except BaseException as error:
                    report = {"error": f"{type(error).__name__}: {error}"}
                os.write(write_fd, json.dumps(report).encode())
            finally:
                os._exit(status)
        os.close(write_fd)
        children[pid] = read_fd

    deadline = time.monotonic() + CHILD_TIMEOUT
    outputs = {pid: b"" for pid in children}
    open_fds = {fd: pid for pid, fd in children.items()}
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], max(0.0, deadline - time.monotonic()))
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                outputs[open_fds[fd]] += chunk
            else:
                os.close(fd)
                del open_fds[fd]
    for fd in open_fds:
        os.close(fd)

    reports = []
    for pid in children:
        status = _wait_or_kill(pid, deadline)
        try:
            report = json.loads(outputs[pid]) if outputs[pid] else {"error": "no report"}
        except ValueError:
            report = {"error": f"unreadable report {outputs[pid]!r}"}
        if status != 0 and "error" not in report:
            report["error"] = f"exit status {status}"
        report["child_pid"] = pid
        reports.append(report)
    return reports


def _wait_or_kill(pid: int, deadline: float) -> int:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(0.01)


def child_query(engine: Engine, parent_backend_pid: int, parent_pool: Any) -> Callable[[], dict[str, Any]]:
    """What a child does: query a few times through the parent's engine object, then close its own connections."""

    def target() -> dict[str, Any]:
        pool_reset = engine.pool is not parent_pool  # did the at-fork callback run before any checkout?
        with engine.connect() as connection:
            backend_pids = {connection.scalar(BACKEND_PID) for _ in range(3)}
        (backend_pid,) = backend_pids
        if backend_pid != parent_backend_pid:
            engine.dispose()  # only the child's own connections are in the pool: close them politely
        return {"backend_pid": backend_pid, "pool_reset": pool_reset}

    return target


def assert_children_used_their_own_connections(reports: list[dict[str, Any]], parent_backend_pid: int) -> None:
    errors = [report for report in reports if "error" in report]
    assert not errors, f"children failed: {errors}"
    for report in reports:
        text_of_report = json.dumps(report).lower()
        assert not any(symptom in text_of_report for symptom in SHARED_SOCKET_SYMPTOMS), report
    child_backend_pids = [report["backend_pid"] for report in reports]
    assert parent_backend_pid not in child_backend_pids, "a child talked over the parent's connection"
    assert len(set(child_backend_pids)) == len(reports), f"children shared a connection: {child_backend_pids}"


def test_forked_children_open_their_own_connections(postgresql_database, registries):
    """The at-fork hook resets the pool in each child: the parent's pooled connection is neither used nor closed.

    The parent returns its connection to the pool before forking, so every child inherits a pool holding it: the
    case of a prefork server whose master touched the database while loading the app.
    """
    registry = make_registry(registries, postgresql_database.writer_url)
    engine = registry.writer.engine
    with engine.connect() as connection:
        parent_backend_pid = connection.scalar(BACKEND_PID)
        parent_dbapi_connection = connection.connection.dbapi_connection
    parent_pool = engine.pool
    assert parent_pool.checkedin() == 1

    reports = run_in_children(4, child_query(engine, parent_backend_pid, parent_pool))

    assert_children_used_their_own_connections(reports, parent_backend_pid)
    assert all(report["pool_reset"] for report in reports), f"the at-fork callback did not run: {reports}"
    # The parent is untouched: same pool, and its pooled connection still talks to the same backend.
    assert engine.pool is parent_pool and parent_pool.checkedin() == 1
    with engine.connect() as connection:
        assert connection.connection.dbapi_connection is parent_dbapi_connection
        assert connection.scalar(BACKEND_PID) == parent_backend_pid


def test_the_pid_guard_alone_protects_forked_children(postgresql_database, registries, monkeypatch):
    """With the after-fork reset bypassed (as when a server forks without running at-fork hooks), the pool's pid
    guard still refuses the inherited connection in each child and opens a fresh one, raising nothing."""
    registry = make_registry(registries, postgresql_database.writer_url)
    monkeypatch.setattr(registry, "after_fork", lambda: None)
    engine = registry.writer.engine
    with engine.connect() as connection:
        parent_backend_pid = connection.scalar(BACKEND_PID)
    parent_pool = engine.pool

    reports = run_in_children(4, child_query(engine, parent_backend_pid, parent_pool))

    assert not any(report.get("pool_reset") for report in reports), "the reset was meant to be bypassed"
    assert_children_used_their_own_connections(reports, parent_backend_pid)
    assert parent_pool.checkedin() == 1
    assert backend_pid_of(engine) == parent_backend_pid


# -- the pid guard, in one process ---------------------------------------------------------------------------


def test_pid_guard_replaces_a_connection_born_in_another_process(postgresql_database, registries):
    """A pooled connection recorded as opened by another process is forgotten on checkout, not closed (it is that
    process's socket), and the caller gets a fresh connection without seeing an error."""
    registry = make_registry(registries, postgresql_database.writer_url)
    engine = registry.writer.engine
    with engine.connect() as connection:
        first_backend_pid = connection.scalar(BACKEND_PID)
        pooled = connection.connection  # the pool's proxy; its ``info`` is the connection record's
        assert pooled.info[forksafe._PID_KEY] == os.getpid()
        foreign_dbapi_connection = pooled.dbapi_connection
        pooled.info[forksafe._PID_KEY] = os.getppid()  # as if the parent process had opened it
    assert engine.pool.checkedin() == 1
    try:
        with engine.connect() as connection:
            fresh_backend_pid = connection.scalar(BACKEND_PID)
            assert connection.connection.dbapi_connection is not foreign_dbapi_connection
            assert connection.connection.info[forksafe._PID_KEY] == os.getpid()
        assert fresh_backend_pid != first_backend_pid
        assert not foreign_dbapi_connection.closed, "the guard closed a socket that belongs to another process"
        assert engine.pool.checkedin() == 1, "the fresh connection takes the foreign one's place in the pool"
        assert backend_pid_of(engine) == fresh_backend_pid
    finally:
        foreign_dbapi_connection.close()


# -- run_after_fork_callbacks ----------------------------------------------------------------------------------


def test_after_fork_callbacks_forget_pools_without_closing_connections(
    postgresql_database, registries, isolated_callbacks
):
    """What the uWSGI and pyramid_forksafe hooks call: every live registry drops its pool, closing nothing, so a
    connection checked out before the call keeps working (in a real child the parent is still using it)."""
    registry = make_registry(registries, postgresql_database.writer_url)
    engine = registry.writer.engine
    assert registry in isolated_callbacks
    old_pool = engine.pool
    held = engine.connect()
    try:
        held_backend_pid = held.scalar(BACKEND_PID)
        with engine.connect() as connection:
            pooled_backend_pid = connection.scalar(BACKEND_PID)
            pooled_dbapi_connection = connection.connection.dbapi_connection
        assert (old_pool.checkedin(), old_pool.checkedout()) == (1, 1)

        forksafe.run_after_fork_callbacks()

        assert engine.pool is not old_pool
        assert (engine.pool.checkedin(), engine.pool.checkedout()) == (0, 0)
        assert not pooled_dbapi_connection.closed, "the pooled connection was closed, not forgotten"
        assert held.scalar(BACKEND_PID) == held_backend_pid
        fresh_backend_pid = backend_pid_of(engine)
        assert fresh_backend_pid not in (held_backend_pid, pooled_backend_pid)
        forksafe.run_after_fork_callbacks()  # safe to call again in the same process
        assert held.scalar(BACKEND_PID) == held_backend_pid
    finally:
        held.close()
        old_pool.dispose()  # the forgotten connections are still this process's: close them


def test_a_garbage_collected_registry_is_not_called_after_fork(postgresql_database, registries, isolated_callbacks):
    """Registries are held weakly: one that was collected is neither kept alive nor reset."""
    survivor = make_registry(registries, postgresql_database.writer_url)
    survivor_pool = survivor.writer.engine.pool
    collected = EngineRegistry()
    collected.add("writer", postgresql_database.writer_url)
    engine = collected.writer.engine  # outlives its registry
    try:
        backend_pid = backend_pid_of(engine)
        pool = engine.pool
        collected_ref = weakref.ref(collected)
        del collected
        gc.collect()
        assert collected_ref() is None, "the registry is kept alive by: " + ", ".join(
            type(referrer).__name__ for referrer in gc.get_referrers(collected_ref())
        )
        assert list(isolated_callbacks) == [survivor]

        forksafe.run_after_fork_callbacks()

        assert survivor.writer.engine.pool is not survivor_pool
        assert engine.pool is pool and pool.checkedin() == 1, "a collected registry's engine was reset"
        assert backend_pid_of(engine) == backend_pid
    finally:
        engine.dispose()


def test_one_failing_callback_does_not_stop_the_others(postgresql_database, registries, isolated_callbacks, caplog):
    """A callback that raises is logged, and the registries after it are still reset."""

    class Broken:
        def after_fork(self) -> None:
            raise RuntimeError("boom")

    broken = Broken()
    forksafe.register_after_fork(broken)
    registry = make_registry(registries, postgresql_database.writer_url)
    pool = registry.writer.engine.pool
    with caplog.at_level(logging.ERROR, logger="pyramid_polydatum"):
        forksafe.run_after_fork_callbacks()
    assert registry.writer.engine.pool is not pool
    assert [record.exc_info[1].args for record in caplog.records if record.exc_info] == [("boom",)]
    assert "after fork failed" in caplog.text


# -- prefork servers -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(port: int, timeout: float = 10.0) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    payload = json.loads(body)
    if response.status != 200:
        payload.setdefault("error", f"HTTP {response.status}")
    return payload


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "UWSGI_INI")}
    env["FORKAPP_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[[list[str], str, int], subprocess.Popen[bytes]]]:
    """Start a server command in its own process group, wait until it answers, and always stop it afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], database_url: str, port: int) -> subprocess.Popen[bytes]:
        log_path = tmp_path / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=server_env(database_url), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(process)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_tail(log_path)}")
            try:
                get_json(port, timeout=2.0)
                return process
            except (OSError, http.client.HTTPException, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer within {SERVER_START_TIMEOUT}s:\n{log_tail(log_path)}")
                time.sleep(0.1)

    yield start
    for process in started:
        stop_server(process)


def load(port: int, requests: int = 150, threads: int = 6) -> list[dict[str, Any]]:
    def one(_: int) -> dict[str, Any]:
        try:
            return get_json(port)
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}"}

    with ThreadPoolExecutor(max_workers=threads) as executor:
        return list(executor.map(one, range(requests)))


def backend_is_alive(admin_url: str, backend_pid: int) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as connection:
            found = connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}
            )
    finally:
        engine.dispose()
    return found == 1


def assert_workers_never_share_connections(responses: list[dict[str, Any]], master_pid: int, admin_url: str) -> None:
    errors = [response for response in responses if "error" in response]
    assert not errors, f"{len(errors)} failed requests, e.g. {errors[:3]}"
    assert {response["import_pid"] for response in responses} == {master_pid}, "the app was not preloaded"
    (master_backend_pid,) = {response["parent_backend_pid"] for response in responses}
    worker_pids = {response["pid"] for response in responses}
    assert master_pid not in worker_pids
    assert len(worker_pids) > 1, f"only one worker answered: {worker_pids}"
    assert all(response["pool_reset_after_fork"] for response in responses), "a worker kept the master's pool"
    assert master_backend_pid not in {response["backend_pid"] for response in responses}
    workers_by_backend: dict[int, set[int]] = {}
    for response in responses:
        workers_by_backend.setdefault(response["backend_pid"], set()).add(response["pid"])
    shared = {backend: pids for backend, pids in workers_by_backend.items() if len(pids) > 1}
    assert not shared, f"backends used by several workers: {shared}"
    assert backend_is_alive(admin_url, master_backend_pid), "a worker closed the master's connection"


def test_gunicorn_preload_workers_never_share_the_masters_connection(postgresql_database, serve):
    """gunicorn ``--preload`` imports the app (which queries) in the master, then forks the workers."""
    port = free_port()
    process = serve(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", "3", "-b", f"127.0.0.1:{port}",
         "--no-control-socket", "--graceful-timeout", "5", "tests.sessions.forkapp:app"],
        postgresql_database.writer_url, port,
    )
    responses = load(port)
    assert_workers_never_share_connections(responses, process.pid, postgresql_database.admin_url)


UWSGI = Path(sys.executable).with_name("uwsgi")


@pytest.mark.skipif(not UWSGI.exists(), reason=f"uWSGI is not installed ({UWSGI} not found): pip install uwsgi")
def test_uwsgi_workers_never_share_the_masters_connection(postgresql_database, serve):
    """uWSGI without ``lazy-apps`` loads the app in the master and forks with C ``fork()``, which skips Python's
    at-fork hooks: the registry must be reset by the uWSGI post-fork hook."""
    port = free_port()
    process = serve(
        [str(UWSGI), "--master", "--processes", "3", "--http-socket", f"127.0.0.1:{port}",
         "--module", "tests.sessions.forkapp:app", "--chdir", str(PROJECT_ROOT), "--pythonpath", str(PROJECT_ROOT),
         "--home", sys.prefix, "--need-app", "--die-on-term", "--disable-logging", "--strict"],
        postgresql_database.writer_url, port,
    )
    responses = load(port)
    assert_workers_never_share_connections(responses, process.pid, postgresql_database.admin_url)


def test_a_child_forked_inside_a_context_never_commits_or_closes_the_parents_transaction(
    postgresql_database, registries
):
    """A child that inherits an open unit of work must neither COMMIT it nor ROLLBACK it over the parent's socket."""
    from pyramid_polydatum import DataManager
    from pyramid_polydatum.sessions import install_sessions

    registry = make_registry(registries, postgresql_database.writer_url)
    engine = registry.writer.engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fork_ctx (x INTEGER)"))
    try:
        dm = install_sessions(DataManager(), registry)
        with pytest.raises(RuntimeError, match="parent fails"), dm.context() as ctx:
            session = ctx.db.writer
            session.execute(text("INSERT INTO fork_ctx (x) VALUES (1)"))
            parent_backend = session.execute(BACKEND_PID).scalar_one()
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child leaves the with block normally, then collects garbage
                status = 1
                try:
                    os.close(read_end)
                    ctx.__exit__(None, None, None)
                    with contextlib.suppress(Exception):  # the context is over in the child too
                        ctx.db
                    gc.collect()
                    status = 0
                finally:
                    os.write(write_end, str(status).encode())
                    os._exit(status)
            os.close(write_end)
            _, child_status = os.waitpid(pid, 0)
            assert os.read(read_end, 10) == b"0"
            os.close(read_end)
            assert os.waitstatus_to_exitcode(child_status) == 0
            assert session.execute(BACKEND_PID).scalar_one() == parent_backend  # the socket is intact
            raise RuntimeError("parent fails")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM fork_ctx")).scalar_one() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE fork_ctx"))


def test_a_child_forked_inside_an_open_context_cannot_use_the_parents_session(postgresql_database, registries):
    """The child's INSERT on the inherited session raises before a byte is sent: the parent's backend, its
    transaction id and its commit are exactly as if the child never existed."""
    from pyramid_polydatum import DataManager
    from pyramid_polydatum.sessions import ForkedConnectionError, install_sessions

    registry = make_registry(registries, postgresql_database.writer_url)
    engine = registry.writer.engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fork_use (who TEXT)"))
    try:
        dm = install_sessions(DataManager(), registry)
        with dm.context() as ctx:
            session = ctx.db.writer
            session.execute(text("INSERT INTO fork_use (who) VALUES ('parent')"))
            backend = session.execute(BACKEND_PID).scalar_one()
            xid = session.execute(text("SELECT txid_current()")).scalar_one()
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                outcome = "no error"
                try:
                    os.close(read_end)
                    try:
                        session.execute(text("INSERT INTO fork_use (who) VALUES ('child')"))
                    except Exception as error:  # the whole chain is checked below
                        chain = [error, error.__cause__, error.__context__, getattr(error, "orig", None)]
                        if any(isinstance(e, ForkedConnectionError) for e in chain):
                            outcome = "refused"
                        else:
                            outcome = f"other: {error!r}"
                    try:
                        session.connection().exec_driver_sql("COMMIT")
                    except Exception:
                        pass
                    else:
                        outcome = "commit sent"
                    gc.collect()
                finally:
                    os.write(write_end, outcome.encode())
                    os._exit(0)
            os.close(write_end)
            os.waitpid(pid, 0)
            outcome = os.read(read_end, 200).decode()
            os.close(read_end)
            assert outcome == "refused"
            assert session.execute(BACKEND_PID).scalar_one() == backend
            assert session.execute(text("SELECT txid_current()")).scalar_one() == xid
            session.execute(text("INSERT INTO fork_use (who) VALUES ('parent again')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT who FROM fork_use ORDER BY who")).scalars().all() == [
                "parent", "parent again"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE fork_use"))
