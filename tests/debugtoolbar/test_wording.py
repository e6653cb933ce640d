"""The panel reads as sentences: pool status, SQLite paths, what each step did, and the statement count.

Through the demo app with the toolbar on (WebTest), and against real engines for the pool's numbers.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.pool import NullPool, StaticPool

from demo_app.models import Base
from pyramid_polydatum.debugtoolbar.snapshot import _pool_status, display_url
from tests.debugtoolbar.test_panel import Toolbar, rows


@pytest.fixture
def toolbar(sqlite_database, registries):
    made = Toolbar(sqlite_database, registries)
    yield made
    Base.metadata.drop_all(made.engines.writer.engine)


def test_the_pool_says_how_many_connections_are_in_use_and_idle(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/pool.sqlite", pool_size=1, max_overflow=2)
    try:
        assert _pool_status(engine.pool)["text"] == "pool size 1: no connection open"
        first = engine.connect()
        assert _pool_status(engine.pool)["text"] == "pool size 1: 1 in use, 0 idle"
        more = [engine.connect(), engine.connect()]
        assert _pool_status(engine.pool)["text"] == "pool size 1: 3 in use, 0 idle, 2 beyond the size"
        for connection in [first, *more]:
            connection.close()
        assert _pool_status(engine.pool)["text"] == "pool size 1: 0 in use, 1 idle"
    finally:
        engine.dispose()


@pytest.mark.parametrize(("pool", "text"), [(NullPool, "no pool: a new connection for each use"),
                                            (StaticPool, "one connection, shared")])
def test_pools_without_counts_say_what_they_do(pool, text):
    engine = create_engine("sqlite://", poolclass=pool)
    try:
        assert _pool_status(engine.pool)["text"] == text
    finally:
        engine.dispose()


def test_no_negative_overflow_or_escaped_path_appears_in_the_panel(toolbar, sqlite_database):
    toolbar.app.get("/")
    panel = toolbar.panel_of_last_request()
    assert "%3A" not in panel
    engines = {r[0]: r for r in rows(panel, "pdtb-polydatum-engines")}
    assert all("overflow" not in row[4] and "-" not in row[4] for row in engines.values())
    assert engines["reader"][2] == f"sqlite {sqlite_database.name} (mode=ro)"
    assert engines["writer"][2] == f"sqlite {sqlite_database.name}"


@pytest.mark.parametrize(("url", "shown"), [
    ("sqlite://", "sqlite (in memory)"),
    ("sqlite:///file:/srv/a b.sqlite?mode=ro&uri=true", "sqlite /srv/a b.sqlite (mode=ro)"),
    ("sqlite:////srv/demo.sqlite", "sqlite /srv/demo.sqlite"),
    ("postgresql+psycopg://app:s3cr%40t@db:5432/shop", "postgresql+psycopg://app:***@db:5432/shop"),
])
def test_urls_are_shown_as_a_reader_wants_them(url, shown):
    engine = create_engine(url)  # never connects
    try:
        assert display_url(engine) == shown
    finally:
        engine.dispose()


def test_the_badge_counts_every_statement_including_those_run_while_the_context_ends(toolbar):
    """An audit entry is written by middleware as the context ends, after the response: it is counted too."""
    ran: list[tuple[str, str]] = []
    for entry in toolbar.engines:
        event.listen(entry.engine, "after_cursor_execute",
                     lambda conn, cursor, statement, *rest, name=entry.name: ran.append((name, statement)))
    toolbar.app.post_json("/api/items", {"sku": "A-1", "name": "Widget", "quantity": 2}, status=201)
    panel = toolbar.panel_of_last_request()
    assert ("logger", ran[-1][1]) == ran[-1] and ran[-1][1].startswith("INSERT INTO audit_log")
    badge = re.search(r"2 resources · (\d+) statements", toolbar.page)
    assert badge and int(badge.group(1)) == len(ran)
    assert f'<strong class="pdtb-polydatum-statements">{len(ran)}</strong>' in panel
    engines = {r[0]: r for r in rows(panel, "pdtb-polydatum-engines")}
    assert sum(int(engines[name][6]) for name in ("writer", "reader", "logger")) == len(ran)
