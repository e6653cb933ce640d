"""Validation of the names under which services and resources are registered."""

from __future__ import annotations

import keyword

from .errors import InvalidName


def check_name(kind: str, name: str, reserved: type | None = None) -> None:
    """Refuse names that cannot be reached by attribute or would shadow an attribute of ``reserved``.

    Raised at registration so a typo or a clash (a resource called ``meta``) shows up when the app is configured,
    not when the first request touches it.
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidName(f"{kind} name {name!r} is not a Python identifier")
    if name.startswith("_"):
        raise InvalidName(f"{kind} name {name!r} starts with an underscore; those names are reserved")
    if reserved is not None and hasattr(reserved, name):
        raise InvalidName(f"{kind} name {name!r} would shadow {reserved.__name__}.{name}")
