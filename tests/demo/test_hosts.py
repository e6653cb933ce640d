"""With the debug toolbar on, the demo answers only requests addressed to where it listens (DNS rebinding)."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError
from webtest import TestApp

from demo_app import main
from demo_app.models import Base
from pyramid_polydatum.glue import get_engines

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def settings_for(database, **extra):
    return {
        "demo.session_secret": "test",
        "polydatum.engine.writer.url": database.writer_url,
        "polydatum.engine.reader.url": database.reader_url,
        "polydatum.engine.logger.url": database.writer_url,
        "pyramid.includes": "pyramid_debugtoolbar",
        "debugtoolbar.includes": "pyramid_polydatum.debugtoolbar",
        "debugtoolbar.hosts": "127.0.0.1",
        **extra,
    }


@pytest.fixture
def served(sqlite_database, registries, tmp_path):
    made = []

    def serve(ini_server="listen = 127.0.0.1:6543", **extra):
        ini = tmp_path / "development.ini"
        ini.write_text("[app:main]\nuse = call:demo_app:main\n\n"
                       f"[server:main]\nuse = egg:waitress#main\n{ini_server}\n")
        wsgi = main({"__file__": str(ini), "here": str(tmp_path)}, **settings_for(sqlite_database, **extra))
        made.append(get_engines(wsgi.registry))
        registries.append(made[-1])
        return TestApp(wsgi, extra_environ=LOCAL)

    yield serve
    for engines in made:
        Base.metadata.drop_all(engines.writer.engine)


def test_a_request_for_another_host_is_refused_before_the_toolbar_or_the_app(served):
    app = served()
    assert app.get("/", headers={"Host": "127.0.0.1:6543"}).status_int == 200
    assert app.get("/", headers={"Host": "localhost:6543"}).status_int == 200
    for path in ("/", "/_debug_toolbar/", "/api/items"):
        refused = app.get(path, headers={"Host": "attacker.example"}, status=421)
        assert "listens on" in refused.text
    app.get("/", headers={"Host": "attacker.example:6543"}, status=421)
    app.get("/", headers={"Host": "127.0.0.1:8080"}, status=421)
    # prequest's in-process requests carry no Host of their own, and no browser is involved
    assert app.get("/", extra_environ={"paste.command_request": True}).status_int == 200


def test_the_allowed_hosts_can_be_given_and_an_ipv6_listener_is_understood(served):
    app = served(ini_server="listen = [::1]:6543")
    assert app.get("/", headers={"Host": "[::1]:6543"}).status_int == 200
    app.get("/", headers={"Host": "attacker.example"}, status=421)
    app = served(**{"demo.allowed_hosts": "demo.test:80"})
    assert app.get("/", headers={"Host": "demo.test"}).status_int == 200
    app.get("/", headers={"Host": "127.0.0.1:6543"}, status=421)


def test_without_a_known_address_the_toolbar_refuses_to_start(sqlite_database):
    with pytest.raises(ConfigurationError, match=r"setting demo\.allowed_hosts"):
        main({}, **settings_for(sqlite_database))


def test_without_the_toolbar_no_host_check_is_made(sqlite_database, registries):
    settings = settings_for(sqlite_database)
    del settings["pyramid.includes"]
    wsgi = main({}, **settings)
    registries.append(get_engines(wsgi.registry))
    try:
        assert TestApp(wsgi).get("/", headers={"Host": "shop.example"}).status_int == 200
    finally:
        Base.metadata.drop_all(get_engines(wsgi.registry).writer.engine)
