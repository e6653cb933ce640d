"""Configuration checks made once every action ran: the one commit path, and settings left over from before.

The one commit path in Pyramid is pyramid_tm, through ``request.tm``.

A joined engine's sessions join the request's ``request.tm``; only its owner (pyramid_tm's tween for a served
request, the script or shell otherwise) commits it. An app that turned the include's pyramid_tm off
(``polydatum.transactions = false``) must therefore include pyramid_tm itself, or configure no joined engine:
otherwise nothing would ever commit those sessions. That is checked when the configuration is committed.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import IRequestExtensions

from ..sessions.errors import ConfigurationError
from .directives import get_engines


def has_request_tm(registry: Any) -> bool:
    """True when requests of this app have ``request.tm`` (pyramid_tm's request method, or an app's own)."""
    extensions = registry.queryUtility(IRequestExtensions)
    return extensions is not None and ("tm" in extensions.descriptors or "tm" in extensions.methods)


def check_transaction_manager(registry: Any, sessions_name: str | None) -> None:
    """``ConfigurationError`` when a joined engine has no ``request.tm`` to join."""
    if sessions_name is None:
        return
    joined = [entry.name for entry in get_engines(registry) if entry.transaction == "joined"]
    if joined and not has_request_tm(registry):
        raise ConfigurationError(
            f"setting polydatum.transactions = false, and the app does not include pyramid_tm: the sessions of "
            f"{', '.join(joined)} join request.tm, which nothing would create or commit. Include pyramid_tm "
            f"(or set polydatum.transactions = true), or let the app commit those engines' sessions itself "
            f"(polydatum.engine.{joined[0]}.transaction = none)"
        )


def refuse_leftover_settings(settings: Any) -> None:
    """An app moving over whose ini still configures its engine the old way: say so at start, naming both keys.

    Without it the app starts, and its first request fails with "no attribute or resource 'db'".
    """
    leftovers = sorted(key for key in (settings or {}) if key.startswith("sqlalchemy."))
    if leftovers:
        raise ConfigurationError(
            f"setting {leftovers[0]} is not read by pyramid_polydatum and no engine is configured: rename it to "
            f"polydatum.engine.writer.{leftovers[0].removeprefix('sqlalchemy.')} (every sqlalchemy.* key moves "
            "under polydatum.engine.writer.)"
        )
