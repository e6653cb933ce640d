"""DataAccessLayer: the entry to a manager's services (``dal.users.get(42)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .services import register_into, replace_into

if TYPE_CHECKING:
    from .manager import DataManager
    from .services import Service


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
        parts = path.split(".")
        if parts[0] == "dal":
            parts.pop(0)
        if not parts or not parts[0]:
            raise KeyError(path)
        target: Any = getattr(self, parts[0])
        for part in parts[1:]:
            target = getattr(target, part)
        return target

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._services))

    def __repr__(self) -> str:
        return f"<DataAccessLayer services={sorted(self._services)}>"
