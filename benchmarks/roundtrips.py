"""Round trips per request, counted at the wire by ``proxy.CountingProxy`` (PostgreSQL only).

Each app of ``apps`` is pointed at the proxy; after a warm-up, one request per route is sent and the simple
queries and syncs the client sent are counted. Targets are those of a request across a real network: a read in
one round trip, an insert in three (BEGIN, INSERT, COMMIT), a read then an insert in four.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from . import apps, report, wsgi
from .proxy import CountingProxy

TARGETS = {"read": 1, "write": 3, "mixed": 4}
VARIANTS: dict[str, Callable[[str, str], object]] = {
    "(c) cookiecutter tm+zope.sqlalchemy": apps.cookiecutter_app,
    "(d) pyramid_sqlassist": apps.sqlassist_app,
    "(e) pyramid_polydatum": apps.polydatum_app,
}


def through(proxy: CountingProxy, url: str) -> str:
    """``url`` pointed at the proxy (TLS off: the proxy reads the protocol)."""
    parsed = make_url(url).set(host="127.0.0.1", port=proxy.port)
    return parsed.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)


def count(writer_url: str, reader_url: str, factory: Callable[[str, str], object]) -> dict[str, int]:
    """Round trips of one request per route of the app ``factory`` builds, behind a fresh proxy."""
    upstream = make_url(writer_url)
    with CountingProxy((upstream.host or "127.0.0.1", upstream.port or 5432)) as proxy:
        app = factory(through(proxy, writer_url), through(proxy, reader_url))
        counts = {}
        for route in apps.ROUTES:
            call = wsgi.make_caller(app, f"/{route}")
            for _ in range(3):  # warm-up: connections open, statements prepared
                call()
            proxy.reset()
            call()
            counts[route] = proxy.round_trips
        return counts


def run(writer_url: str, reader_url: str) -> list[tuple]:
    apps.create_schema(writer_url)
    counted = {
        name: count(writer_url, reader_url, factory)
        for name, factory in VARIANTS.items()
        if wsgi.sqlassist_available() or not name.startswith("(d)")
    }
    rows: list[tuple] = []
    for route in apps.ROUTES:
        for name, counts in counted.items():
            target = TARGETS.get(route) if name.startswith("(e)") else None
            rows.append((f"round trips postgresql {route}", name, counts[route], report.ROUND_TRIPS, target))
    return rows
