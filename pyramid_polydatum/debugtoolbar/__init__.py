"""The debug toolbar panel. Enable it with ``debugtoolbar.includes = pyramid_polydatum.debugtoolbar``.

This package is the only one that imports pyramid_debugtoolbar; the core and the include never do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import make_url

from ..glue.interfaces import IEngineRegistry
from ..glue.settings import ENGINE_PREFIX
from ..sessions.registry import is_secret_name, masked_url
from .panel import PolydatumPanel

__all__ = ["PolydatumPanel", "includeme"]


def includeme(config: Any) -> None:
    """Run by the toolbar on its own configurator: add the panel, and prepare the parent app for it."""
    config.add_debugtoolbar_panel(PolydatumPanel)
    config.inject_parent_action(_prepare_parent)


def _prepare_parent(parent_config: Any) -> None:
    """Count statements per request, and mask the secrets the toolbar's settings panel would show.

    Engine URLs are masked (password and secret query values), and in ``connect_args`` the values of keys that
    carry secrets (``password``, ``passwd``, ``sslpassword``, ``sslkey`` ...).

    Runs once the app is configured (its engines exist, built from the unmasked URLs).
    """
    engines = parent_config.registry.queryUtility(IEngineRegistry)
    if engines is not None:
        engines.enable_statistics()
    settings = parent_config.registry.settings
    for key, value in list(settings.items()):
        if not key.startswith(ENGINE_PREFIX):
            continue
        if key.endswith(".url") and isinstance(value, str):
            settings[key] = _masked(value)
        elif key.endswith(".connect_args") or is_secret_name(key.rsplit(".", 1)[-1]):
            settings[key] = _masked_mapping(value) if key.endswith(".connect_args") else "***"


def _masked_mapping(value: Any) -> Any:
    """``connect_args`` (a JSON string or a mapping) with the values of secret-carrying keys replaced."""
    try:
        mapping = value if isinstance(value, Mapping) else json.loads(str(value))
    except ValueError:
        return "<hidden>"
    if not isinstance(mapping, Mapping):
        return "<hidden>"
    masked = {k: ("***" if is_secret_name(str(k)) else v) for k, v in mapping.items()}
    return masked if isinstance(value, Mapping) else json.dumps(masked)


def _masked(url: str) -> str:
    if url.strip().startswith("env:"):
        return url
    try:
        return masked_url(make_url(url))
    except Exception:  # noqa: BLE001 - an unparsable value is hidden whole rather than shown
        return "<hidden>"
