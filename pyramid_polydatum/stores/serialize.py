"""A data-only serializer: JSON with explicit types, never code execution on load.

Only classes registered with it are rebuilt (dataclasses, classes with ``__store_fields__``, mapped SQLAlchemy
classes: their column attributes; ``Enum`` classes, found in a registered class's annotations or column types, or
registered themselves); anything else raises ``SerializationError`` at ``dumps``. An ``IntEnum`` stays an
``IntEnum`` (it is not written as a bare ``int``). A poisoned cache entry
can at worst name a registered class, never run code. ``PickleSerializer`` exists for those who opt in explicitly.
"""

from __future__ import annotations

import base64
import enum
import json
import pickle
import typing
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from .keys import StoreError, known_attributes, namespace_of


class SerializationError(StoreError):
    """An object or value the serializer does not accept."""


class Serializer(Protocol):
    def register(self, cls: type) -> None: ...
    def dumps(self, obj: Any) -> bytes: ...
    def loads(self, data: bytes) -> Any: ...


def _fields(cls: type) -> list[str]:
    names = known_attributes(cls)
    if names is None:
        raise SerializationError(
            f"{cls.__qualname__} has no declared field list: make it a dataclass, mapped class or give "
            "__store_fields__"
        )
    return sorted(names)


class JsonSerializer:
    """JSON with tagged values for datetime, date, time, timedelta, Decimal, UUID, bytes, tuple and objects."""

    def __init__(self, classes: list[type] | None = None) -> None:
        self._classes: dict[str, tuple[type, list[str]]] = {}
        for cls in classes or ():
            self.register(cls)

    def register(self, cls: type) -> None:
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            self._classes[namespace_of(cls)] = (cls, [])
            return
        self._classes[namespace_of(cls)] = (cls, _fields(cls))
        for found in _enums_of(cls):
            self._classes.setdefault(namespace_of(found), (found, []))

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(self._enc(obj), separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        return self._dec(json.loads(data))

    def _enc(self, v: Any) -> Any:
        if isinstance(v, enum.Enum):  # before int and str: IntEnum and StrEnum keep their type
            entry = self._classes.get(namespace_of(type(v)))
            if entry is None or entry[0] is not type(v):
                raise SerializationError(
                    f"{type(v).__qualname__} is not registered with the serializer (register the enum class, or "
                    "annotate the field with it)"
                )
            return {"~e": namespace_of(type(v)), "f": self._enc(v.value)}
        if v is None or isinstance(v, bool | int | str):
            return v
        if isinstance(v, float):
            return v if v == v and v not in (float("inf"), float("-inf")) else {"~f": repr(v)}
        if isinstance(v, list):
            return [self._enc(x) for x in v]
        if isinstance(v, tuple):
            return {"~t": [self._enc(x) for x in v]}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise SerializationError("only dicts with str keys are serialized")
            return {"~d": {k: self._enc(x) for k, x in v.items()}}
        if isinstance(v, datetime):
            return {"~dt": v.isoformat()}
        if isinstance(v, date):
            return {"~date": v.isoformat()}
        if isinstance(v, time):
            return {"~time": v.isoformat()}
        if isinstance(v, timedelta):
            return {"~td": [v.days, v.seconds, v.microseconds]}
        if isinstance(v, Decimal):
            return {"~dec": str(v)}
        if isinstance(v, uuid.UUID):
            return {"~uuid": str(v)}
        if isinstance(v, bytes | bytearray):
            return {"~b": base64.b64encode(bytes(v)).decode()}
        entry = self._classes.get(namespace_of(type(v)))
        if entry is None or entry[0] is not type(v):
            raise SerializationError(f"{type(v).__qualname__} is not registered with the serializer")
        return {"~o": namespace_of(type(v)), "f": {n: self._enc(getattr(v, n, None)) for n in entry[1]}}

    def _dec(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self._dec(x) for x in v]
        if not isinstance(v, dict):
            return v
        ((tag, payload),) = [(k, x) for k, x in v.items() if k != "f"] or [("", None)]
        match tag:
            case "~f":
                return float(payload)
            case "~t":
                return tuple(self._dec(x) for x in payload)
            case "~d":
                return {k: self._dec(x) for k, x in payload.items()}
            case "~dt":
                return datetime.fromisoformat(payload)
            case "~date":
                return date.fromisoformat(payload)
            case "~time":
                return time.fromisoformat(payload)
            case "~td":
                return timedelta(days=payload[0], seconds=payload[1], microseconds=payload[2])
            case "~dec":
                return Decimal(payload)
            case "~uuid":
                return uuid.UUID(payload)
            case "~b":
                return base64.b64decode(payload)
            case "~o":
                return self._build(payload, v["f"])
            case "~e":
                return self._enum(payload, self._dec(v["f"]))
        raise SerializationError(f"unknown tagged value {tag!r}")

    def _enum(self, name: str, value: Any) -> Any:
        entry = self._classes.get(name)
        if entry is None or not issubclass(entry[0], enum.Enum):
            raise SerializationError(f"{name} is not a registered enum")
        return entry[0](value)

    def _build(self, name: str, fields: dict[str, Any]) -> Any:
        entry = self._classes.get(name)
        if entry is None:
            raise SerializationError(f"{name} is not registered with the serializer")
        cls, names = entry
        from sqlalchemy import inspect

        mapper: Any = inspect(cls, raiseerr=False)
        obj: Any = mapper.class_manager.new_instance() if mapper is not None else object.__new__(cls)
        for n in names:
            if n in fields:
                value = self._dec(fields[n])
                if mapper is not None:
                    setattr(obj, n, value)
                else:
                    object.__setattr__(obj, n, value)  # frozen dataclasses too
        return obj


def _enums_of(cls: type) -> list[type[enum.Enum]]:
    """Enum classes named by ``cls``'s annotations (``Level``, ``Level | None``) or its mapped columns' types."""
    found: list[type[enum.Enum]] = []
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - unresolvable annotations: then only the columns' types and explicit ones
        hints = {}
    for hint in hints.values():
        for candidate in (hint, *typing.get_args(hint)):
            for inner in (candidate, *typing.get_args(candidate)):
                if isinstance(inner, type) and issubclass(inner, enum.Enum):
                    found.append(inner)
    from sqlalchemy import inspect

    mapper: Any = inspect(cls, raiseerr=False)
    for column in getattr(mapper, "columns", ()):
        enum_class = getattr(column.type, "enum_class", None)
        if isinstance(enum_class, type) and issubclass(enum_class, enum.Enum):
            found.append(enum_class)
    return found


class PickleSerializer:
    """Pickle: any object, and any code on load. Only for caches whose contents you fully trust."""

    def register(self, cls: type) -> None:
        return None

    def dumps(self, obj: Any) -> bytes:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)
