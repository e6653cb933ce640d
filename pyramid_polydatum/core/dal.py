"""The entries to a manager's services: ``DataAccessLayer`` (the active context's) and ``BoundDAL`` (one context's).

``dm.get_dal()`` finds its context through the calling thread's stack of active contexts. ``ctx.dal`` (and, in
Pyramid, ``request.dal``) is bound to one context instead: each call through it runs with that context active in
the calling thread, whichever thread that is, so a thread pool shared by many requests never runs one request's
work in another's context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ContextStateError
from .services import Service, register_into, replace_into

if TYPE_CHECKING:
    from .context import DataAccessContext
    from .manager import DataManager

#: context states in which calls through a bound DAL may run
_LIVE = frozenset({"setup", "active", "closing"})


class DataAccessLayer:
    """Gives access to the services of one ``DataManager``, only while one of its contexts is active.

    ``dal.users`` returns the registered service object itself; ``dal['users.profile.get']`` walks a dotted
    path (a leading ``dal.`` is ignored), which is handy when a method is named in a task queue message.
    """

    def __init__(self, data_manager: DataManager) -> None:
        self._services: dict[str, Service] = {}
        self._data_manager = data_manager

    def register_services(self, **services: Service) -> DataAccessLayer:
        register_into(self._services, type(self), self._data_manager, services)
        return self

    def replace_service(self, name: str, service: Service) -> Service:
        return replace_into(self._services, type(self), self._data_manager, name, service)

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(self._services)

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            service = self._services[name]
        except KeyError:
            known = ", ".join(sorted(self._services)) or "none"
            raise AttributeError(f"no service named {name!r} (registered: {known})") from None
        self._data_manager.require_active_context(f"dal.{name}")
        return service

    def __getitem__(self, path: str) -> Any:
        return walk(self, path)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._services))

    def __repr__(self) -> str:
        return f"<DataAccessLayer services={sorted(self._services)}>"


class BoundDAL:
    """The DAL of one context (``ctx.dal``, ``request.dal``): ``dal.users.get(42)`` runs in that context.

    ``dal.users`` is a ``BoundService``, a view of the registered service whose methods make the context the
    active one of the calling thread for the duration of the call; inside, ``self._ctx``, ``self._dal`` and
    anything that asks the manager for its active context (a store) see this context. Views are made once per
    context and name.
    """

    def __init__(self, context: DataAccessContext) -> None:
        self._context = context
        self._dal = context.data_manager.get_dal()

    @property
    def context(self) -> DataAccessContext:
        return self._context

    @property
    def service_names(self) -> tuple[str, ...]:
        return self._dal.service_names

    def __contains__(self, name: object) -> bool:
        return name in self._dal

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        service = self._dal._services.get(name)
        if service is None:
            known = ", ".join(sorted(self._dal.service_names)) or "none"
            raise AttributeError(f"no service named {name!r} (registered: {known})")
        view = BoundService(service, self._context)
        self.__dict__[name] = view
        return view

    def __getitem__(self, path: str) -> Any:
        return walk(self, path)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._dal.service_names))

    def __repr__(self) -> str:
        return f"<BoundDAL services={sorted(self._dal.service_names)} context={self._context!r}>"


class BoundService:
    """A registered service as seen from one context: its methods run in that context, from any thread.

    Nested services are bound views too; other attributes are the service's own. ``view.service`` is the
    shared service object itself.
    """

    def __init__(self, service: Service, context: DataAccessContext) -> None:
        self._service = service
        self._context = context

    @property
    def service(self) -> Service:
        return self._service

    @property
    def _ctx(self) -> DataAccessContext:
        return self._context

    @property
    def _dal(self) -> BoundDAL:
        return self._context.dal

    def __getattr__(self, name: str) -> Any:
        # read in the context too: a property of the service may itself use self._ctx
        manager = self._context.data_manager
        token = manager._activate(self._context)
        try:
            value = getattr(self._service, name)
        finally:
            manager._deactivate(token)
        if isinstance(value, Service):
            bound: Any = BoundService(value, self._context)
        elif callable(value) and not isinstance(value, type):
            bound = _bind(value, self._context)
        else:
            return value
        self.__dict__[name] = bound
        return bound

    def __dir__(self) -> list[str]:
        return dir(self._service)

    def __repr__(self) -> str:
        return f"<BoundService {type(self._service).__qualname__} context={self._context!r}>"


def walk(dal: Any, path: str) -> Any:
    """``dal['users.profile.get']``: the attribute at a dotted path (a leading ``dal.`` is ignored)."""
    parts = path.split(".")
    if parts[0] == "dal":
        parts.pop(0)
    if not parts or not parts[0]:
        raise KeyError(path)
    target: Any = getattr(dal, parts[0])
    for part in parts[1:]:
        target = getattr(target, part)
    return target


def _bind(function: Callable[..., Any], context: DataAccessContext) -> Callable[..., Any]:
    manager = context.data_manager

    def call_in_context(*args: Any, **kwargs: Any) -> Any:
        if context._state not in _LIVE:
            raise ContextStateError(
                f"{getattr(function, '__qualname__', function)} was called through the DAL of a context that is "
                f"{context._state}: a unit of work's DAL lives as long as its context"
            )
        token = manager._activate(context)
        try:
            return function(*args, **kwargs)
        finally:
            manager._deactivate(token)

    call_in_context.__wrapped__ = function  # type: ignore[attr-defined]
    call_in_context.__name__ = getattr(function, "__name__", "call_in_context")
    call_in_context.__doc__ = getattr(function, "__doc__", None)
    return call_in_context
