"""Configurator directives: register services, resources, middleware and engines as Pyramid actions.

Each registration is an action with a discriminator, so two conflicting registrations are a configuration
conflict reported by ``config.commit()``, and each is visible in the introspector (and pyramid_debugtoolbar).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.exceptions import ConfigurationConflictError

from ..core.manager import DataManager
from ..core.resources import describe
from ..sessions import origin as origins
from ..sessions.options import EngineSpec
from ..sessions.registry import EngineRegistry
from .interfaces import IDataManager, IEngineRegistry
from .settings import ENGINE_PREFIX

ENGINE_ORDER = -20  # engines exist before the sessions resource is installed
SESSIONS_ORDER = -10  # the sessions resource exists before the app's middleware and resources are used
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


def add_polydatum_engine(config: Any, name: str, engine: Any, *, override: bool = False, **options: Any) -> None:
    """``config.add_polydatum_engine('reader', url_or_engine, readonly=True, pool_size=5)``.

    Options are converted and checked by the same parse table as settings (``pool_size='5'`` is 5,
    ``pool_size=0`` an error naming the argument). Redefining an engine that the settings configure is a
    configuration conflict; pass ``override=True`` to replace the settings' engine on purpose.
    """
    keys = sorted(k for k in config.get_settings() if k.startswith(f"{ENGINE_PREFIX}{name}."))
    if keys and not override:
        raise ConfigurationConflictError({
            ("polydatum-engine", name): [
                f"settings {', '.join(keys)}",
                f"add_polydatum_engine({name!r}, ...) {config.action_info}".rstrip()
                + "\n(pass override=True to replace the engine of the settings on purpose)",
            ]
        })
    if override:
        _overridden(config.registry).add(name)
    intr = config.introspectable("polydatum engines", name, name, "polydatum engine")
    intr["options"] = {k: v for k, v in options.items() if k != "connect_args"}
    intr["source"] = "add_polydatum_engine"
    origin = origins.from_call("add_polydatum_engine", name)
    config.action(
        ("polydatum-engine", name),
        lambda: get_engines(config.registry).add(name, engine, origin=origin, **options),
        order=ENGINE_ORDER, introspectables=(intr,),
    )


def add_engines_from_settings(config: Any, specs: Mapping[str, EngineSpec]) -> None:
    """One action per engine of the settings (``polydatum.engine.<name>.*``), skipped when overridden."""
    overridden = _overridden(config.registry)
    for name, spec in specs.items():
        intr = config.introspectable("polydatum engines", name, name, "polydatum engine")
        intr["options"] = {k: v for k, v in spec.engine.items() if k != "connect_args"}
        intr["source"] = "settings"

        def add(name: str = name, spec: EngineSpec = spec) -> None:
            if name not in overridden:
                get_engines(config.registry).add(
                    name, spec.url, session_options=spec.session,
                    origin=origins.from_settings(ENGINE_PREFIX, name), **spec.entry, **spec.engine,
                )

        config.action(("polydatum-engine-settings", name), add, order=ENGINE_ORDER, introspectables=(intr,))


def _overridden(registry: Any) -> set[str]:
    """Names of the settings' engines that a directive replaces on purpose (``override=True``)."""
    return registry.setdefault(_OVERRIDDEN_KEY, set())  # type: ignore[no-any-return]


_OVERRIDDEN_KEY = "pyramid_polydatum.overridden_engines"
