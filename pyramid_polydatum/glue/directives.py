"""Configurator directives: register services, resources, middleware and engines as Pyramid actions.

Each registration is an action with a discriminator, so two conflicting registrations are a configuration
conflict reported by ``config.commit()``, and each is visible in the introspector (and pyramid_debugtoolbar).
"""

from __future__ import annotations

from typing import Any

from ..core.manager import DataManager
from ..core.resources import describe
from ..sessions.registry import EngineRegistry
from .interfaces import IDataManager, IEngineRegistry

ENGINE_ORDER = -20  # engines exist before the sessions resource is installed
SESSIONS_ORDER = -10  # the sessions middleware is registered before (so it wraps) every other middleware
CHECK_ORDER = 100  # checks of the whole configuration, once every other action (pyramid_tm's included) ran


def get_data_manager(registry: Any) -> DataManager:
    """The application's ``DataManager`` (``config.registry`` or ``request.registry``)."""
    manager = registry.queryUtility(IDataManager)
    if manager is None:
        raise LookupError("no DataManager in this registry: call config.include('pyramid_polydatum') first")
    return manager  # type: ignore[no-any-return]


def get_engines(registry: Any) -> EngineRegistry:
    """The application's ``EngineRegistry``, created on first need."""
    engines = registry.queryUtility(IEngineRegistry)
    if engines is None:
        engines = EngineRegistry()
        registry.registerUtility(engines, IEngineRegistry)
    return engines  # type: ignore[no-any-return]


def add_polydatum_service(config: Any, name: str, service: Any) -> None:
    """``config.add_polydatum_service('items', ItemService())``: a top-level service of the DAL."""
    service = config.maybe_dotted(service)
    manager = get_data_manager(config.registry)
    intr = config.introspectable("polydatum services", name, name, "polydatum service")
    intr["service"] = service
    config.action(("polydatum-service", name), lambda: manager.register_services(**{name: service}),
                  introspectables=(intr,))


def add_polydatum_resource(config: Any, name: str, factory: Any) -> None:
    """``config.add_polydatum_resource('cache', cache_factory)``: a lazily created per-context resource."""
    factory = config.maybe_dotted(factory)
    manager = get_data_manager(config.registry)
    intr = config.introspectable("polydatum resources", name, name, "polydatum resource")
    intr["factory"] = factory
    config.action(("polydatum-resource", name), lambda: manager.register_resources(**{name: factory}),
                  introspectables=(intr,))


def add_polydatum_middleware(config: Any, middleware: Any) -> None:
    """``config.add_polydatum_middleware(timing)``: context middleware, set up in the order of these calls."""
    middleware = config.maybe_dotted(middleware)
    manager = get_data_manager(config.registry)
    name = describe(middleware)
    intr = config.introspectable("polydatum middleware", name, name, "polydatum middleware")
    intr["middleware"] = middleware
    # keyed on the object itself: the same middleware twice conflicts; two partials of one function do not
    config.action(("polydatum-middleware", middleware), lambda: manager.register_context_middleware(middleware),
                  introspectables=(intr,))


def add_polydatum_engine(config: Any, name: str, engine: Any, **options: Any) -> None:
    """``config.add_polydatum_engine('reader', url_or_engine, readonly=True, pool_size=5)``."""
    intr = config.introspectable("polydatum engines", name, name, "polydatum engine")
    intr["options"] = {k: v for k, v in options.items() if k != "connect_args"}
    config.action(("polydatum-engine", name), lambda: get_engines(config.registry).add(name, engine, **options),
                  order=ENGINE_ORDER, introspectables=(intr,))
