"""The debug toolbar panel through WebTest on the demo app: what each request did, safely rendered."""

from __future__ import annotations

import json
import re

import pytest
from pyramid.events import NewResponse
from webtest import TestApp

from demo_app import main
from demo_app.models import Base
from pyramid_polydatum.glue import get_engines
from tests.services import SECRET_PASSWORD

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


class Toolbar:
    """The demo app with the toolbar and the panel on, and the toolbar page of any request it served."""

    def __init__(self, database, registries, **extra):
        settings = {
            "demo.session_secret": "test",
            "polydatum.engine.writer.url": database.writer_url,
            "polydatum.engine.reader.url": database.reader_url,
            "polydatum.engine.logger.url": database.writer_url,
            "pyramid.includes": "pyramid_debugtoolbar",
            "debugtoolbar.includes": "pyramid_polydatum.debugtoolbar",
            "debugtoolbar.hosts": "127.0.0.1",
            "demo.allowed_hosts": "localhost",  # WebTest sends Host: localhost:80
            **extra,
        }
        self.wsgi = main({}, **settings)
        self.engines = get_engines(self.wsgi.registry)
        registries.append(self.engines)
        self.ids = []
        self.wsgi.registry.registerHandler(self._remember, (NewResponse,))
        self.app = TestApp(self.wsgi, extra_environ=LOCAL)

    def _remember(self, event) -> None:
        request_id = getattr(event.request, "pdtb_id", None)  # the toolbar's own pages have none
        if request_id:
            self.ids.append(request_id)

    def panel_of_last_request(self) -> str:
        page = self.app.get(f"/_debug_toolbar/{self.ids[-1]}")
        self.page = page.text
        assert 'id="pDebugPanel-polydatum-content"' in page.text, "the panel is missing from the toolbar page"
        return page.text.split('id="pDebugPanel-polydatum-content"', 1)[1].split('id="pDebugPanel-', 1)[0]


@pytest.fixture
def toolbar(sqlite_database, registries):
    made = Toolbar(sqlite_database, registries)
    yield made
    Base.metadata.drop_all(made.engines.writer.engine)


def rows(html: str, table_class: str) -> list[list[str]]:
    table = re.search(rf'<table class="[^"]*{table_class}[^"]*">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_a_request_shows_its_resources_middleware_and_engines_with_counts(toolbar):
    toolbar.app.post_json("/api/items", {"sku": "A-1", "name": "Widget", "quantity": 2}, status=201)
    toolbar.app.get("/items/1")
    panel = toolbar.panel_of_last_request()
    assert "State: <strong>exited</strong>" in panel and "Ended without error." in panel
    resources = {r[0]: r for r in rows(panel, "pdtb-polydatum-resources")}
    assert list(resources) == ["memo", "db"]
    assert resources["memo"][3] == "ok" and resources["db"][3] == "reader rolled back"
    middleware = rows(panel, "pdtb-polydatum-middleware")
    assert [r[0] for r in middleware] == ["demo_app.context.audit"]
    engines = {r[0]: r for r in rows(panel, "pdtb-polydatum-engines")}
    assert set(engines) == {"writer", "reader", "logger"}
    reader = engines["reader"]
    assert reader[1] == "read-only" and reader[5] == "yes" and int(reader[6]) >= 1 and reader[8] == "rolled back"
    assert engines["writer"][5] == "no" and engines["writer"][8] == "none"
    assert reader[4] == "QueuePool: pool size 5: 0 in use, 1 idle"
    assert re.search(r"2 resources · \d+ statements", toolbar.page)


def test_a_write_request_shows_the_commit_and_the_audit(toolbar):
    toolbar.app.post_json("/api/items", {"sku": "A-1", "name": "Widget", "quantity": 2}, status=201)
    engines = {r[0]: r for r in rows(toolbar.panel_of_last_request(), "pdtb-polydatum-engines")}
    assert engines["writer"][8] == "committed" and int(engines["writer"][6]) >= 2
    assert engines["logger"][8] == "committed"


def test_a_request_that_never_touched_the_dal_says_so_and_creates_nothing(toolbar):
    toolbar.app.get("/about")
    panel = toolbar.panel_of_last_request()
    assert "No data context was created" in panel
    assert "not used" in toolbar.page
    assert all(r[5] == "no" for r in rows(panel, "pdtb-polydatum-engines"))


def test_a_failed_request_shows_the_error_outcomes(toolbar):
    toolbar.app.post_json("/api/items", {"sku": "A-1", "name": "Widget", "quantity": 1}, status=201)
    broken = {"delta": "-1"}
    engine = toolbar.engines.writer.engine
    from sqlalchemy import event

    def fail(conn):
        raise OSError("disk full at COMMIT")

    event.listen(engine, "commit", fail)
    try:
        toolbar.app.post("/items/1/adjust", {**broken, "csrf_token": _csrf(toolbar)}, status=500)
    finally:
        event.remove(engine, "commit", fail)
    panel = toolbar.panel_of_last_request()
    assert "Ended with error: <code class=\"pdtb-polydatum-error\">OSError: disk full at COMMIT</code>" in panel
    middleware = {r[0]: r for r in rows(panel, "pdtb-polydatum-middleware")}
    assert middleware["demo_app.context.audit"][3:] == ["ended after OSError", "OSError: disk full at COMMIT"]
    resources = {r[0]: r for r in rows(panel, "pdtb-polydatum-resources")}
    assert resources["db"][3] == "after OSError: reader rolled back, writer commit failed, logger committed"
    assert resources["memo"][3] == "ended after OSError"
    for step in [*resources.values(), *middleware.values()]:
        assert step[3] != "ok", step  # never "ok" next to the error it received
    engines = {r[0]: r for r in rows(panel, "pdtb-polydatum-engines")}
    assert engines["writer"][8] == "commit failed"


def _csrf(toolbar) -> str:
    page = toolbar.app.get("/items/1")
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)


def test_meta_values_are_escaped(sqlite_database, registries):
    made = Toolbar(sqlite_database, registries, **{"polydatum.meta_factory": "tests.debugtoolbar.test_panel.xss_meta"})
    try:
        made.app.get("/", headers={"X-Note": "<script>alert('owned')</script>"})
        panel = made.panel_of_last_request()
        assert "<script>alert" not in made.page
        assert "&lt;script&gt;alert(" in panel
    finally:
        Base.metadata.drop_all(made.engines.writer.engine)


def xss_meta(request):
    return {"note": request.headers.get("X-Note")}


def test_no_password_appears_in_the_panel(postgresql_database, registries):
    made = Toolbar(postgresql_database, registries)
    try:
        made.app.get("/")
        panel = made.panel_of_last_request()
        assert "***" in panel
        for fragment in (SECRET_PASSWORD, "s3cr", "pw%2F", "%zz"):
            assert fragment not in made.page
    finally:
        Base.metadata.drop_all(made.engines.writer.engine)


def test_secrets_in_connect_args_and_url_queries_are_masked_in_every_toolbar_panel(sqlite_database, registries):
    from urllib.parse import quote

    secret = "p@ss:w/rd%41-é✓"
    made = Toolbar(sqlite_database, registries, **{
        "polydatum.engine.logger.connect_args": json.dumps(
            {"timeout": 15, "password": secret, "sslpassword": secret, "passwd": secret, "sslkey": secret}),
        "polydatum.engine.logger.url": sqlite_database.writer_url + "?uri=true&sslpassword=" + quote(secret, safe=""),
    })
    try:
        made.app.get("/")
        made.panel_of_last_request()
        assert "polydatum.engine.logger.connect_args" in made.page  # the settings panel is on the page
        assert "&#34;timeout&#34;: 15, &#34;password&#34;: &#34;***&#34;" in made.page
        assert "sslpassword=***" in made.page
        for fragment in (secret, "p@ss", "w/rd", "é✓", quote(secret, safe=""), "%41"):
            assert fragment not in made.page, fragment
    finally:
        Base.metadata.drop_all(made.engines.writer.engine)
