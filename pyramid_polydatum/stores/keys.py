"""Declared unique keys: which attributes find an object, and how a lookup becomes a typed cache key.

Keys are checked when a class is registered with a store, so a typo in ``__store_keys__`` fails at start-up, not on
the first request that happens to use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..core.errors import PolydatumException

KeyNames = tuple[str, ...]


class StoreError(PolydatumException):
    """Base class of the store errors."""


class UnknownKeyError(StoreError, LookupError):
    """A lookup that is no declared key, or a key declaration that cannot work."""


def namespace_of(cls: type) -> str:
    """The class's cache namespace: module and qualified name, so two classes never share a key."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _mapper(cls: type) -> Any:
    try:
        from sqlalchemy import inspect

        return inspect(cls, raiseerr=False)
    except Exception:  # noqa: BLE001 - not a mapped class
        return None


def known_attributes(cls: type) -> set[str] | None:
    """Attributes a class is known to have (None when it cannot be told: plain classes)."""
    mapper = _mapper(cls)
    if mapper is not None and hasattr(mapper, "column_attrs"):
        return {attr.key for attr in mapper.column_attrs}
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    fields = getattr(cls, "__store_fields__", None)
    return set(fields) if fields is not None else None


class KeySpec:
    """The unique keys of one class: ``keys[0]`` is the primary key, the others are alternate keys."""

    def __init__(self, cls: type, keys: list[KeyNames]) -> None:
        self.cls = cls
        self.keys = keys
        self.namespace = namespace_of(cls)

    @classmethod
    def for_class(cls, klass: type) -> KeySpec:
        """Read ``__store_keys__`` (or stockpyle's ``__stockpyle_keys__``), else the mapped primary key."""
        declared = getattr(klass, "__store_keys__", None)
        if declared is None:
            declared = getattr(klass, "__stockpyle_keys__", None)
        if declared is None:
            mapper = _mapper(klass)
            if mapper is None or not hasattr(mapper, "primary_key"):
                raise UnknownKeyError(f"{klass.__qualname__} declares no __store_keys__ and is not a mapped class")
            declared = [tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)]
        if isinstance(declared, str):
            declared = [declared]
        keys: list[KeyNames] = []
        for key in declared:
            names = (key,) if isinstance(key, str) else tuple(key)
            if not names or not all(isinstance(n, str) for n in names):
                raise UnknownKeyError(f"{klass.__qualname__}: invalid key declaration {key!r}")
            if names in keys:
                raise UnknownKeyError(f"{klass.__qualname__}: key {key!r} is declared twice")
            keys.append(names)
        if not keys:
            raise UnknownKeyError(f"{klass.__qualname__}: no keys declared")
        known = known_attributes(klass)
        if known is not None:
            for names in keys:
                missing = [n for n in names if n not in known]
                if missing:
                    raise UnknownKeyError(f"{klass.__qualname__}: key {names!r} names unknown attributes {missing}")
        return cls(klass, keys)

    def describe(self) -> str:
        return ", ".join(n[0] if len(n) == 1 else "(" + ", ".join(n) + ")" for n in self.keys)

    def resolve(self, key: Any) -> tuple[KeyNames, tuple[Any, ...]]:
        """Which declared key a lookup means, and its values in declared order.

        A scalar is the single-attribute primary key (or the only single-attribute key); a dict names its
        attributes (any order); a tuple is the compound key of that length if exactly one is declared.
        """
        if isinstance(key, Mapping):
            wanted = set(key)
            for names in self.keys:
                if set(names) == wanted:
                    return names, tuple(key[n] for n in names)
            raise UnknownKeyError(
                f"{sorted(wanted)} is no declared key of {self.cls.__qualname__}; declared keys: {self.describe()}"
            )
        if isinstance(key, tuple):
            matches = [names for names in self.keys if len(names) == len(key) and len(names) > 1]
            if len(matches) == 1:
                return matches[0], key
            raise UnknownKeyError(
                f"a tuple lookup must match exactly one compound key of {self.cls.__qualname__} "
                f"(give a dict instead); declared keys: {self.describe()}"
            )
        singles = [names for names in self.keys if len(names) == 1]
        if not singles:
            raise UnknownKeyError(
                f"{self.cls.__qualname__} has no single-attribute key; declared keys: {self.describe()}"
            )
        return singles[0], (key,)

    def values_of(self, obj: Any) -> list[tuple[KeyNames, tuple[Any, ...]]]:
        """Every declared key of ``obj`` with its current values (keys with a None part are skipped)."""
        found = []
        for names in self.keys:
            values = tuple(getattr(obj, n, None) for n in names)
            if all(v is not None for v in values):
                found.append((names, values))
        return found


def encode_value(value: Any) -> str:
    """A typed rendering of one key value: ``123`` and ``"123"`` (and ``True`` and ``1``) never collide."""
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def key_part(names: KeyNames, values: tuple[Any, ...]) -> str:
    """The typed rendering of one key of a class: ``id=builtins.int:1`` (``True`` and ``1.0`` stay apart)."""
    return "&".join(f"{n}={encode_value(v)}" for n, v in zip(names, values, strict=True))


def cache_key(namespace: str, names: KeyNames, values: tuple[Any, ...]) -> str:
    return f"{namespace}|{key_part(names, values)}"
