"""The debug toolbar panel. Enable it with ``debugtoolbar.includes = pyramid_polydatum.debugtoolbar``.

This package is the only one that imports pyramid_debugtoolbar; the core and the include never do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from ..glue.interfaces import IEngineRegistry
from ..glue.settings import ENGINE_PREFIX
from ..sessions.registry import masked_url
from .panel import PolydatumPanel

__all__ = ["PolydatumPanel", "includeme"]


def includeme(config: Any) -> None:
    """Run by the toolbar on its own configurator: add the panel, and prepare the parent app for it."""
    config.add_debugtoolbar_panel(PolydatumPanel)
    config.inject_parent_action(_prepare_parent)


def _prepare_parent(parent_config: Any) -> None:
    """Count statements per request, and mask the engine URLs the toolbar's settings panel would show.

    Runs once the app is configured (its engines exist, built from the unmasked URLs).
    """
    engines = parent_config.registry.queryUtility(IEngineRegistry)
    if engines is not None:
        engines.enable_statistics()
    settings = parent_config.registry.settings
    for key, value in list(settings.items()):
        if key.startswith(ENGINE_PREFIX) and key.endswith(".url") and isinstance(value, str):
            settings[key] = _masked(value)


def _masked(url: str) -> str:
    if url.strip().startswith("env:"):
        return url
    try:
        return masked_url(make_url(url))
    except Exception:  # noqa: BLE001 - an unparsable value is hidden whole rather than shown
        return "<hidden>"
