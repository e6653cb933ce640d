"""While the debug toolbar is on, serve only requests addressed to the address the demo listens on.

The toolbar checks the client's address (``debugtoolbar.hosts``), not the ``Host`` header: a page on
``attacker.example`` whose name resolves to 127.0.0.1 (DNS rebinding) would otherwise reach the toolbar from
the developer's own browser. Requests whose ``Host`` is not one of the listening addresses are refused with
421 Misdirected Request, before the toolbar or the app sees them. ``prequest`` (which marks its in-process
requests with ``paste.command_request``) is let through.
"""

from __future__ import annotations

import configparser
from typing import Any

from pyramid.response import Response

#: Names that are the same address as a loopback listener.
_LOOPBACK = {"127.0.0.1": ("127.0.0.1", "localhost"), "::1": ("::1", "localhost"), "localhost": ("localhost",)}


def toolbar_enabled(settings: dict[str, Any]) -> bool:
    return "pyramid_debugtoolbar" in str(settings.get("pyramid.includes", "")).split()


def parse_hosts(text: str) -> set[tuple[str, str | None]]:
    """``127.0.0.1:6543 [::1]:6543 localhost`` → {(host, port or None)}; loopback addresses add ``localhost``."""
    allowed: set[tuple[str, str | None]] = set()
    for item in text.split():
        host, port = _split(item.lower())
        for name in _LOOPBACK.get(host, (host,)):
            allowed.add((name, port))
    return allowed


def listen_addresses(global_config: dict[str, Any]) -> str:
    """The ``listen`` (or ``host``/``port``) of the ini file's ``[server:main]`` section, or an empty string."""
    path = global_config.get("__file__")
    if not path:
        return ""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    if not parser.has_section("server:main"):
        return ""
    server = parser["server:main"]
    if server.get("listen"):
        return server["listen"]
    if server.get("host") and server.get("port"):
        return f"{server['host']}:{server['port']}"
    return ""


def _split(item: str) -> tuple[str, str | None]:
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if item.count(":") == 1:
        host, port = item.split(":")
        return host, port
    return item, None


def host_check_tween_factory(handler: Any, registry: Any) -> Any:
    allowed = registry.settings["demo.allowed_hosts_parsed"]

    def host_check_tween(request: Any) -> Any:
        if request.environ.get("paste.command_request"):  # prequest, in process: no network, no browser
            return handler(request)
        host, port = _split(request.host.lower())
        port = port or request.host_port
        if (host, port) in allowed or (host, None) in allowed:
            return handler(request)
        return Response(
            "This development server only answers requests addressed to the address it listens on "
            "(the debug toolbar is enabled).", status=421, content_type="text/plain",
        )

    return host_check_tween
