"""Drive the fault app, then count what was lost, what was half-stored and what leaked."""

from __future__ import annotations

import http.client
import io
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, select, text

from .app import FAULTS, Base, Child, Row

EXPECTED_STATUS = {"none": 200, "teardown_raises": 200, "client_disconnects": 200, "view_raises": 500,
                   "middleware_setup_raises": 500, "resource_setup_fails": 500, "commit_fails": 503}


@dataclass
class Outcome:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected_status: int = 0
    crossed: int = 0
    transport_errors: int = 0
    lost: int = 0
    partial: int = 0
    children: int = 0
    checked_out: int | None = None
    idle_in_transaction: int = 0
    workers: int = 0

    @property
    def clean(self) -> bool:
        return not (self.unexpected_status or self.crossed or self.transport_errors or self.lost or self.partial
                    or self.children or self.checked_out or self.idle_in_transaction)


def plan(count: int, seed: int = 7) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    names = list(FAULTS)
    return [(i + 1, rng.choice(names)) for i in range(count)]


def prepare(admin_url: str, writer_url: str) -> None:
    engine = create_engine(writer_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def wsgi_call(app: Any, row_id: int, fault: str, tag: str) -> tuple[int, bytes]:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/op", "QUERY_STRING": urlencode({"id": row_id, "fault": fault}),
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "HTTP_X_TAG": tag,
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    status: list[str] = []
    body = app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        if fault == "client_disconnects":
            chunk = next(iter(body), b"")  # the client goes away after the first chunk
            return int(status[0][:3]), chunk
        return int(status[0][:3]), b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close:
            close()


def http_call(port: int, row_id: int, fault: str, tag: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/op?" + urlencode({"id": row_id, "fault": fault}), headers={"X-Tag": tag})
        response = connection.getresponse()
        if fault == "client_disconnects":
            data = response.read(2)
            response.close()  # hang up mid-response (the finally closes the socket)
            return response.status, data
        return response.status, response.read()
    finally:
        connection.close()


def drive(call: Any, requests: list[tuple[int, str]], threads: int) -> tuple[Outcome, dict[int, str]]:
    outcome = Outcome(requests=len(requests))
    completed: dict[int, str] = {}
    lock = threading.Lock()

    def one(item: tuple[int, str]) -> None:
        row_id, fault = item
        tag = f"t{row_id}"
        try:
            status, body = call(row_id, fault, tag)
        except Exception:  # noqa: BLE001 - counted: a transport error is a failure of the run
            with lock:
                outcome.transport_errors += 1
            return
        with lock:
            outcome.statuses[status] += 1
            completed[row_id] = fault
            if status != EXPECTED_STATUS[fault]:
                outcome.unexpected_status += 1
            if status == 200 and fault != "client_disconnects" and body.split()[1:2] != [tag.encode()]:
                outcome.crossed += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, requests))
    outcome.seconds = time.perf_counter() - started
    return outcome, completed


def verify(outcome: Outcome, completed: dict[int, str], admin_url: str, database: str) -> Outcome:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            present = set(conn.execute(select(Row.id)).scalars())
            outcome.children = conn.execute(select(func.count()).select_from(Child)).scalar_one()
            time.sleep(0.2)
            outcome.idle_in_transaction = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND state LIKE 'idle in transaction%'"),
                {"db": database},
            ).scalar_one()
    finally:
        engine.dispose()
    for row_id, fault in completed.items():
        if FAULTS[fault] and row_id not in present:
            outcome.lost += 1
        if not FAULTS[fault] and row_id in present:
            outcome.partial += 1
    return outcome
