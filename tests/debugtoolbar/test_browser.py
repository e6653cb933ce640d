"""The panel in a real browser (headless Chromium through Playwright): it renders, with no console error."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

from demo_app import main
from demo_app.models import Base
from pyramid_polydatum.glue import get_engines
from tests.services import services_required

CHROMIUM = os.environ.get("POLYDATUM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM:
        message = "Chromium is not installed (apt-get install chromium)"
        if services_required():
            pytest.fail(message + " (POLYDATUM_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def served_demo(sqlite_database, registries):
    from waitress.server import create_server

    wsgi = main({}, **{
        "demo.session_secret": "test",
        "polydatum.engine.writer.url": sqlite_database.writer_url,
        "polydatum.engine.reader.url": sqlite_database.reader_url,
        "polydatum.engine.logger.url": sqlite_database.writer_url,
        "pyramid.includes": "pyramid_debugtoolbar",
        "debugtoolbar.includes": "pyramid_polydatum.debugtoolbar",
        "debugtoolbar.hosts": "127.0.0.1",
        "demo.allowed_hosts": "127.0.0.1",  # any port: the server picks a free one
    })
    engines = get_engines(wsgi.registry)
    registries.append(engines)
    server = create_server(wsgi, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)
    Base.metadata.drop_all(engines.writer.engine)


def test_the_panel_renders_in_chromium_without_console_errors(browser, served_demo):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)

    page.goto(served_demo + "/items/new")
    page.fill("#sku", "B-1")
    page.fill("#name", "<img src=x onerror=\"window.__xss=1\">")
    page.fill("#quantity", "4")
    page.click("form.item-form button[type=submit]")
    page.wait_for_selector("text=initial stock")
    assert page.evaluate("() => window.__xss === undefined")  # the name was shown as text
    toolbar_link = page.get_attribute("a[href*='/_debug_toolbar/']", "href") or ""
    request_id = toolbar_link.rstrip("/").rsplit("/", 1)[-1]

    page.goto(f"{served_demo}/_debug_toolbar/{request_id}")
    page.click("text=Data layer")
    engines = page.wait_for_selector("table.pdtb-polydatum-engines", state="visible")
    text = engines.inner_text()
    assert "writer" in text and "reader" in text and "logger" in text
    assert page.is_visible("table.pdtb-polydatum-resources")
    unexpected = [url for url in failed if not url.endswith("/favicon.ico")]
    assert unexpected == []
    assert [e for e in errors if "favicon" not in e and "status of 404" not in e] == []
