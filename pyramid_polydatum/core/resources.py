"""Resources: things a context opens lazily and closes when it ends (a session, a cache client, a clock)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .context import DataAccessContext
    from .manager import DataManager

T = TypeVar("T")

#: A resource value with a method of this name ends the unit of work it belongs to: the context calls it with the
#: error so far once the middleware are torn down and before any resource is, and an error it raises becomes the
#: context's error (what the sessions use to commit, and to fail the context when the commit fails).
FINISH_HOOK = "__polydatum_finish__"

#: A resource factory: called with the context, yields the resource once; code after the yield is teardown.
ResourceFactory = Callable[["DataAccessContext"], Generator[Any, None, None]]


class Resource:
    """Base class for resources written as classes.

    Subclasses implement ``__call__(context)`` as a generator: setup, ``yield value``, teardown. The context's
    final error is thrown in at the ``yield`` when the context failed, so ``try/except/else`` around it can roll
    back on error and commit on success. ``setup(data_manager)`` is called once at registration.
    """

    def __init__(self) -> None:
        self._data_manager: DataManager | None = None

    def setup(self, data_manager: DataManager) -> None:
        self._data_manager = data_manager

    def __call__(self, context: DataAccessContext) -> Generator[Any, None, None]:
        yield None


class ValueResource(Resource, Generic[T]):
    """A resource that is a fixed value (a configuration object, a client shared by every context)."""

    def __init__(self, value: T) -> None:
        super().__init__()
        self.value = value

    def __call__(self, context: DataAccessContext) -> Generator[T, None, None]:
        yield self.value

    def __repr__(self) -> str:
        return f"<ValueResource {type(self.value).__name__}>"


def is_generator_callable(obj: object) -> bool:
    """True for a generator function, a partial of one, or an object whose ``__call__`` is one."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.isgeneratorfunction(obj):
        return True
    call = inspect.getattr_static(type(obj), "__call__", None)
    return not inspect.isfunction(obj) and not inspect.ismethod(obj) and inspect.isgeneratorfunction(call)


def describe(obj: object) -> str:
    """A short, stable name for a factory or middleware, for errors and records."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{name}"
