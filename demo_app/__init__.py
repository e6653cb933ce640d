"""demo_app: a small inventory, built on pyramid_polydatum.

Installed with the package (``pip install -e ".[demo]"``): ``initialize_demo_db demo_app/development.ini`` then
``pserve demo_app/development.ini`` (waitress on 127.0.0.1:6543, SQLite in ``demo_app/var``), ``pshell`` and
``prequest`` with the same file; ``python -m demo_app`` is the same as that ``pserve``.
"""

from __future__ import annotations

import os

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.session import SignedCookieSessionFactory
from pyramid.tweens import INGRESS

from pyramid_polydatum.glue import get_engines

from .context import audit, memo
from .hosts import listen_addresses, parse_hosts, toolbar_enabled
from .models import Base
from .routes import add_routes
from .services import ItemService


def main(global_config, **settings):
    """The WSGI application factory named by the ini files."""
    _prepare_sqlite_directory(settings)
    if toolbar_enabled(settings):
        hosts = settings.get("demo.allowed_hosts") or listen_addresses(global_config)
        if not hosts:
            raise ConfigurationError(
                "setting demo.allowed_hosts is required while the debug toolbar is enabled: set it (or serve from an "
                "ini file whose [server:main] says where it listens), so that requests to other Host names are refused"
            )
        settings["demo.allowed_hosts_parsed"] = parse_hosts(hosts)
    with Configurator(settings=settings) as config:
        config.include("pyramid_mako")
        config.include("pyramid_polydatum")
        secret = settings.get("demo.session_secret") or os.environ.get("DEMO_SESSION_SECRET")
        if not secret:
            raise ConfigurationError("setting demo.session_secret (or DEMO_SESSION_SECRET) is required")
        config.set_session_factory(SignedCookieSessionFactory(secret, httponly=True, samesite="Lax"))
        config.set_default_csrf_options(require_csrf=True)
        config.add_polydatum_service("items", ItemService())
        config.add_polydatum_resource("memo", memo)
        config.add_polydatum_middleware(audit)
        config.add_static_view("static", "demo_app:static", cache_max_age=3600)
        if toolbar_enabled(settings):  # outside the toolbar's tween: its own pages are guarded too
            config.add_tween("demo_app.hosts.host_check_tween_factory", under=INGRESS,
                             over="pyramid_debugtoolbar.toolbar_tween_factory")
        add_routes(config)
        config.scan(".views")
        config.scan(".errors")
    if _setting_true(settings.get("demo.create_tables", "true")):
        Base.metadata.create_all(get_engines(config.registry).writer.engine)
    return config.make_wsgi_app()


def _setting_true(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _prepare_sqlite_directory(settings) -> None:
    """The SQLite file's folder must exist before the (read-only) reader opens the file."""
    url = settings.get("polydatum.engine.writer.url", "")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "file:"):
        path = url[len(prefix):].split("?", 1)[0]
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
