"""Checks at the moment a connection is made: what cannot be known before connecting, named by its setting."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .errors import ConfigurationError


def checked_creator(key: str, creator: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``creator`` so that a value that is not a DBAPI connection fails naming ``key``.

    Without it, a creator returning garbage fails on the first request with an AttributeError from deep inside
    the pool. The wrapper keeps the creator's arity (SQLAlchemy passes the connection record to a creator that
    takes one argument).
    """

    def check(connection: Any) -> Any:
        if not (callable(getattr(connection, "cursor", None)) and callable(getattr(connection, "rollback", None))):
            raise ConfigurationError(
                f"{key}: {getattr(creator, '__qualname__', creator)!r} returned {type(connection).__name__}, "
                "not a DBAPI connection"
            )
        return connection

    try:
        takes_record = len([
            p for p in inspect.signature(creator).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]) == 1
    except (TypeError, ValueError):
        takes_record = False
    if takes_record:
        return lambda record: check(creator(record))
    return lambda: check(creator())
