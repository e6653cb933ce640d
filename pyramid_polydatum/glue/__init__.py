"""``config.include('pyramid_polydatum')``: settings, the DataManager, engines, ``request.dal``, transactions."""

from __future__ import annotations

from typing import Any

from pyramid.tweens import EXCVIEW, INGRESS

from ..core.manager import DataManager
from ..sessions.container import install_sessions
from ..sessions.errors import ConfigurationError
from ..sessions.options import parse_engine_settings
from .directives import (
    CHECK_ORDER,
    SESSIONS_ORDER,
    add_engines_from_settings,
    add_polydatum_engine,
    add_polydatum_middleware,
    add_polydatum_resource,
    add_polydatum_service,
    get_data_manager,
    get_engines,
)
from .interfaces import IDataManager, IEngineRegistry
from .request import CONTEXT_ATTR, make_request_dal, make_request_session, request_context
from .settings import ENGINE_PREFIX, parse_settings, resolve_dotted
from .transactions import check_transaction_manager, refuse_leftover_settings

__all__ = [
    "CONTEXT_ATTR",
    "IDataManager",
    "IEngineRegistry",
    "get_data_manager",
    "get_engines",
    "includeme",
    "request_context",
]


def includeme(config: Any) -> None:
    settings = parse_settings(config.get_settings())
    engine_specs = parse_engine_settings(config.get_settings(), ENGINE_PREFIX)

    manager = (resolve_dotted(config, "polydatum.data_manager", settings["data_manager"])
               if settings["data_manager"] else DataManager())
    if not isinstance(manager, DataManager):
        raise ConfigurationError(f"setting polydatum.data_manager: {manager!r} is not a DataManager")
    config.registry.registerUtility(manager, IDataManager)

    config.add_directive("add_polydatum_service", add_polydatum_service)
    config.add_directive("add_polydatum_resource", add_polydatum_resource)
    config.add_directive("add_polydatum_middleware", add_polydatum_middleware)
    config.add_directive("add_polydatum_engine", add_polydatum_engine)

    add_engines_from_settings(config, engine_specs)

    if settings["transactions"]:
        config.get_settings().setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
        config.include("pyramid_tm")

    sessions_name = settings["sessions"]

    def install() -> None:
        configured = get_engines(config.registry)  # looked up now: an include may have swapped the registry
        if not len(configured):
            refuse_leftover_settings(config.get_settings())
        if sessions_name and len(configured):
            configured.validate()
            install_sessions(manager, configured, name=sessions_name)

    config.action(("polydatum-sessions",), install, order=SESSIONS_ORDER)
    config.action(None, lambda: check_transaction_manager(config.registry, sessions_name), order=CHECK_ORDER)

    meta_factory = (resolve_dotted(config, "polydatum.meta_factory", settings["meta_factory"])
                    if settings["meta_factory"] else None)
    if meta_factory is not None and not callable(meta_factory):
        raise ConfigurationError(f"setting polydatum.meta_factory: {meta_factory!r} is not callable")
    config.add_request_method(make_request_dal(manager, meta_factory), settings["request_method"], reify=True)
    if settings["request_session"]:
        if not sessions_name:
            raise ConfigurationError(
                "setting polydatum.request_session needs the sessions resource: polydatum.sessions is off"
            )
        config.add_request_method(
            make_request_session(settings["request_method"], sessions_name), settings["request_session"], reify=True
        )
    # over pyramid_tm's tween: the context ends after the commit, with the error a failed commit raised
    config.add_tween("pyramid_polydatum.glue.request.polydatum_tween_factory", under=INGRESS,
                     over=("pyramid_tm.tm_tween_factory", EXCVIEW))

    if not settings["forksafe"]:
        get_engines(config.registry).disable_fork_hooks()
