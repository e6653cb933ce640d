"""Read-only metadata attached to a context (who asked, on behalf of which request, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView, Mapping
from types import MappingProxyType
from typing import Any

_MISSING = object()
_VALUE_REPR_LIMIT = 120


def safe_repr(value: Any, limit: int = _VALUE_REPR_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, or a placeholder when ``repr`` itself raises.

    Meta values are arbitrary objects (a request, a user, a lazily loaded row); a repr that raises must never turn
    logging or a debug page into a second error.
    """
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign __repr__ is reported, not raised
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    if not isinstance(text, str):
        return f"<unrepresentable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LazyValue:
    """A meta value computed on first read, then kept: ``Meta(identity=Meta.lazy(lambda: request.identity))``.

    For values that are costly, or that need the context itself to be computed (a security policy that loads the
    user through the DAL), so creating the context never computes them.
    """

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory

    def __repr__(self) -> str:
        return "<lazy>"


class Meta:
    """Read-only metadata of a context, reachable by attribute and by key.

    A missing key reads as ``None`` (``meta.user`` is ``None`` when nobody set it), as in polydatum. Neither
    attributes nor items can be set or deleted; the values are copied into a private mapping at construction so
    the caller's dict cannot change it afterwards either. ``Meta.lazy(factory)`` marks a value computed on first
    read.
    """

    __slots__ = ("_data", "_values")

    _values: Mapping[str, Any]
    lazy = LazyValue

    def __init__(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        data = dict(values or {})
        data.update(kwargs)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_values", MappingProxyType(data))

    def _read(self, key: str, default: Any = None) -> Any:
        value = self._values.get(key, default)
        if isinstance(value, LazyValue):
            value = value.factory()
            self._data[key] = value
        return value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__") and key.endswith("__"):
            raise AttributeError(key)
        return self._read(key)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Meta is read-only: cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"Meta is read-only: cannot delete {key!r}")

    def __getitem__(self, key: str) -> Any:
        return self._read(key)

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError(f"Meta is read-only: cannot set {key!r}")

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"Meta is read-only: cannot delete {key!r}")

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Meta):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: Any = None) -> Any:
        return self._read(key, default)

    def require(self, key: str) -> Any:
        """The value for ``key``; ``ValueError`` naming the key when it is missing or empty."""
        value = self._read(key)
        if not value:
            raise ValueError(f"meta value {key!r} is empty")
        return value

    def keys(self) -> KeysView[str]:
        return self._values.keys()

    def values(self) -> list[Any]:
        return [self._read(key) for key in self._values]

    def items(self) -> list[tuple[str, Any]]:
        return [(key, self._read(key)) for key in self._values]

    def to_dict(self) -> dict[str, Any]:
        """A shallow, mutable copy of the values (lazy values are computed)."""
        return dict(self.items())

    def __repr__(self) -> str:
        body = ", ".join(f"{safe_repr(k)}: {safe_repr(v)}" for k, v in self._values.items())
        return f"<Meta {{{body}}}>"

    __str__ = __repr__
