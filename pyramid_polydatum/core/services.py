"""Service: a group of related data operations (``dal.users.get(...)``), possibly with nested services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AlreadyExistsException, ServiceNotInitialized
from .naming import check_name

if TYPE_CHECKING:
    from .context import DataAccessContext
    from .dal import DataAccessLayer
    from .manager import DataManager


class Service:
    """Base class for services.

    A service is registered once with a ``DataManager`` and shared by every context; per-unit-of-work state lives
    in the active context (``self._ctx``) and its resources, never on the service.
    """

    def __init__(self) -> None:
        self._services: dict[str, Service] = {}
        self._data_manager: DataManager | None = None
        self._dal: DataAccessLayer | None = None

    def setup(self, data_manager: DataManager | None) -> None:
        """Attach this service, and its sub-services, to ``data_manager`` (called at registration)."""
        self._data_manager = data_manager
        self._dal = data_manager.get_dal() if data_manager is not None else None
        for service in self._services.values():
            service.setup(data_manager)

    def register_services(self, **services: Service) -> Service:
        """Nest services under this one: ``users.register_services(profile=ProfileService())``."""
        register_into(self._services, type(self), self._data_manager, services)
        return self

    def replace_service(self, name: str, service: Service) -> Service:
        """Swap a nested service (tests, alternative implementations); returns the new service."""
        return replace_into(self._services, type(self), self._data_manager, name, service)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        services = self.__dict__.get("_services")
        if services is None:
            raise ServiceNotInitialized(
                f"{type(self).__qualname__} was not initialised: its __init__ must call super().__init__()"
            )
        try:
            return services[name]
        except KeyError:
            raise AttributeError(f"{type(self).__qualname__} has no attribute or sub-service {name!r}") from None

    @property
    def _manager(self) -> DataManager:
        manager = self._data_manager
        if manager is None:
            raise ServiceNotInitialized(f"{type(self).__qualname__} is not registered with a DataManager")
        return manager

    @property
    def _ctx(self) -> DataAccessContext:
        """The active context of this service's manager; ``NoActiveContext`` when there is none."""
        return self._manager.require_active_context()



def register_into(
    registry: dict[str, Service], owner: type, data_manager: DataManager | None, services: dict[str, Service]
) -> None:
    """Add ``services`` to ``registry`` (of a DAL or a parent service); all are checked before any is added."""
    for name, service in services.items():
        check_name("service", name, owner)
        if name in registry:
            raise AlreadyExistsException(f"a service named {name!r} is already registered on {owner.__name__}")
        _check_service(name, service)
    for name, service in services.items():
        service.setup(data_manager)
        registry[name] = service


def replace_into(
    registry: dict[str, Service], owner: type, data_manager: DataManager | None, name: str, service: Service
) -> Service:
    check_name("service", name, owner)
    _check_service(name, service)
    service.setup(data_manager)
    registry[name] = service
    return service


def _check_service(name: str, service: object) -> None:
    if not callable(getattr(service, "setup", None)):
        raise TypeError(f"service {name!r} must be a Service (or have a setup(data_manager) method), got {service!r}")
