"""pyramid_forksafe's post-fork event, wired to the engine registry of the forked application."""

from __future__ import annotations

from typing import Any

from .interfaces import IEngineRegistry


def reset_engines_after_fork(event: Any) -> None:
    """``ApplicationPostFork`` subscriber: forget the parent's pooled connections in this worker."""
    engines = event.registry.queryUtility(IEngineRegistry)
    if engines is not None:
        engines.after_fork()
