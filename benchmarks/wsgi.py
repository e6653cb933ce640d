"""Per-request cost through a direct WSGI call: environ built once, ``app(environ, start_response)`` in a loop."""

from __future__ import annotations

import io
import random
import statistics
import time
from collections.abc import Callable

from . import apps, report

UNTOUCHED_VARIANTS = {
    "(a) bare Pyramid + pyramid_tm = (b) without include": apps.bare_tm_app,
    "(a0) bare Pyramid, no pyramid_tm": apps.bare_app,
    "(b) with include": apps.include_app,
}
DB_VARIANTS = {
    "(c) cookiecutter tm+zope.sqlalchemy": apps.cookiecutter_app,
    "(d) pyramid_sqlassist": apps.sqlassist_app,
    "(e) pyramid_polydatum": apps.polydatum_app,
    "(f) hand-made sessions": apps.handmade_app,
}
REF_UNTOUCHED = "(a) bare Pyramid + pyramid_tm = (b) without include"
REF_DB = "(c) cookiecutter tm+zope.sqlalchemy"
SQLASSIST = "(d) pyramid_sqlassist"
POLYDATUM = "(e) pyramid_polydatum"
HANDMADE = "(f) hand-made sessions"
#: the library's own Python time per request: what (e) costs beyond (f) doing the same work by hand
OWN_TIME_TARGET_US = 40.0


def sqlassist_available() -> bool:
    try:
        import pyramid_sqlassist  # noqa: F401
    except ImportError:
        return False
    return True


def make_caller(app: Callable, path: str) -> Callable[[], None]:
    base = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    def call() -> None:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(b"")
        body = app(environ, start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    call()
    if not status or not status[-1].startswith("200"):
        raise RuntimeError(f"{path}: {status[-1] if status else 'no response'}")
    status.clear()
    return call


def interleave(
    callers: dict[str, Callable[[], None]], rounds: int, batch: int, clock: Callable[[], int] = time.perf_counter_ns
) -> dict[str, float]:
    """Median per-call µs of each caller; batches of the callers interleave in a fresh random order each round.

    ``clock`` is wall time by default; ``time.thread_time_ns`` counts this thread's CPU time only (what the
    library's own Python costs, whatever else the machine runs).
    """
    samples: dict[str, list[float]] = {name: [] for name in callers}
    names = list(callers)
    for call in callers.values():
        for _ in range(batch):
            call()  # warm up: pools, caches, compiled statements
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            call = callers[name]
            t0 = clock()
            for _ in range(batch):
                call()
            samples[name].append((clock() - t0) / batch / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(backend: str, writer_url: str, reader_url: str, rounds: int, batch: int) -> list[tuple]:
    """Rows (benchmark, variant, median µs, reference name or None, target ratio or None)."""
    apps.create_schema(writer_url)
    db_variants = dict(DB_VARIANTS)
    if not sqlassist_available():
        del db_variants[SQLASSIST]
    built = {name: factory(writer_url, reader_url) for name, factory in {**UNTOUCHED_VARIANTS, **db_variants}.items()}
    rows: list[tuple] = []
    for route in apps.ROUTES:
        names = list(built) if route == "untouched" else list(db_variants)
        callers = {name: make_caller(built[name], f"/{route}") for name in names}
        medians = interleave(callers, rounds, batch if route == "untouched" else max(batch // 5, 5))
        bench = f"wsgi {backend} {route}"
        ref = REF_UNTOUCHED if route == "untouched" else REF_DB
        for name in names:
            target = None
            if route == "untouched" and name.startswith("(b)"):
                target = 1.02
            elif route != "untouched" and name == POLYDATUM:
                target = 1.05
            rows.append((bench, name, medians[name], medians[ref], target))
        if route != "untouched":
            pair = {name: callers[name] for name in (POLYDATUM, HANDMADE)}
            cpu = interleave(pair, rounds, max(batch // 5, 5), clock=time.thread_time_ns)
            rows.append((bench, "library's own Python time: (e) - (f), CPU time", cpu[POLYDATUM] - cpu[HANDMADE],
                         report.ABSOLUTE, OWN_TIME_TARGET_US))
            if SQLASSIST in medians:
                rows.append((bench, "(e) polydatum / (d) sqlassist", medians[POLYDATUM], medians[SQLASSIST], 1.0))
            else:
                rows.append((bench, "(d) pyramid_sqlassist: not installed (pip install pyramid_sqlassist)",
                             None, None, None))
    return rows
