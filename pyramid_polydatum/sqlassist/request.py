"""``request.dbSession``: pyramid_sqlassist's per-request container, over the request's ``request.dal`` context.

The container holds no session of its own: it enters the request's context (the Pyramid include's
``request.dal``, ended by a finished callback) and hands out that context's ``ctx.db`` sessions, so
``request.dbSession.writer is ctx.db.writer`` and every session carries the request in ``session.info``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.orm import Session

from ..sessions.container import ContextSessions
from ..sessions.errors import ConfigurationError
from ..sessions.registry import EngineRegistry
from .engines import bind_data_manager, get_registry, initialized_names, transaction_disabled

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.request import Request

#: ``config.registry.pyramid_sqlassist``, as sqlassist sets it (its debugtoolbar panel reads the method name).
REGISTRY_ATTR = "pyramid_sqlassist"


class DbSessionsContainer:
    """The sessions of one request: ``reader``, ``writer``, ``logger`` (memoized), ``get_*()`` and ``any``.

    Subclass it for other engine names, as with sqlassist::

        class Sessions(DbSessionsContainer):
            @cached_property
            def analytics(self):
                return self._get_initialized_session("analytics")
    """

    #: the sessions ``any`` prefers, in order; the logger is never a default choice
    any_preferences: ClassVar[list[str]] = ["reader", "writer"]

    def __init__(self, request: Request) -> None:
        self._request = request

    @cached_property
    def _sessions(self) -> ContextSessions:
        """The request's ``ctx.db``; the first use enters the request's context (its cleanup is a finished
        callback)."""
        request = self._request
        names = getattr(request.registry, REGISTRY_ATTR, None)
        if not names:
            raise RuntimeError(
                "DbSessionsContainer needs pyramid_polydatum.sqlassist.register_request_method(config, ...) "
                "at configuration time (config.add_request_method alone does not wire the sessions)"
            )
        from ..glue.request import request_context

        if not hasattr(request, names["dal_method_name"]):
            # a pyramid.testing.DummyRequest, as sqlassist's users' unit tests build it: give it the app's
            # request methods (request.dal among them), as a served request has them
            from pyramid.request import apply_request_extensions

            apply_request_extensions(request)
        try:
            getattr(request, names["dal_method_name"])  # opens the context; the tween or a finished callback ends it
        except AttributeError:
            raise RuntimeError(
                f"the request has no request.{names['dal_method_name']}: its registry is not the app's "
                "(pyramid.testing.setUp(registry=app.registry), or request.registry = app.registry)"
            ) from None
        context = request_context(request)
        if context is None or context.data_manager.get_resource(names["sessions_name"]) is None:
            raise RuntimeError(
                "the request has no database sessions: no engine was initialized with initialize_engine() "
                "before config.commit()"
            )
        sessions = getattr(context, names["sessions_name"])
        if not isinstance(sessions, ContextSessions) or sessions.registry is not get_registry():
            raise RuntimeError(
                f"ctx.{names['sessions_name']} does not use the sqlassist engine registry: was the registry "
                "reset after the app was configured?"
            )
        return sessions

    def _get_initialized_session(self, engine_name: str) -> Session:
        """This request's session of ``engine_name`` (created on first use)."""
        return self._sessions.get(engine_name)

    @cached_property
    def reader(self) -> Session:
        """The ``reader`` session (the writer's when no reader engine exists)."""
        return self._sessions.reader

    @cached_property
    def writer(self) -> Session:
        return self._sessions.writer

    @cached_property
    def logger(self) -> Session:
        return self._sessions.logger

    def get_reader(self) -> Session:
        return self.reader

    def get_writer(self) -> Session:
        return self.writer

    def get_logger(self) -> Session:
        return self.logger

    @property
    def any(self) -> Session:
        return self.get_any()

    def get_any(self) -> Session:
        """A session already used by this request (in ``any_preferences`` order), else the first preference."""
        for name in self.any_preferences:
            if name in self.__dict__:
                return self.__dict__[name]  # type: ignore[no-any-return]
        if not self.any_preferences:
            raise ValueError("No session available.")
        return getattr(self, self.any_preferences[0])  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        used = [name for name in ("reader", "writer", "logger") if name in self.__dict__]
        return f"<{type(self).__name__} used={used}>"


def register_request_method(
    config: Configurator,
    request_method_name: str,
    dbContainerClass: Callable[[Request], Any] = DbSessionsContainer,
) -> None:
    """``request.<request_method_name>``: a ``dbContainerClass(request)`` per request, over ``request.dal``.

    Includes ``pyramid_polydatum`` (once; Pyramid ignores repeated includes) with the sqlassist registry as its
    ``IEngineRegistry``, so ``request.dal``'s ``ctx.db`` and this container share one set of sessions. An app
    whose include already has engines of its own (``polydatum.engine.*`` settings, ``add_polydatum_engine``)
    gets a ``ConfigurationError``: two sources of engines are never merged silently.

    The include's ``pyramid_tm`` is left out (unless ``polydatum.transactions`` says otherwise) when
    ``SQLASSIST_DISABLE_TRANSACTION`` is set or ``transaction``/``pyramid_tm`` are not installed.
    """
    from ..glue.directives import ENGINE_ORDER, get_data_manager
    from ..glue.interfaces import IEngineRegistry
    from ..glue.settings import parse_settings

    registry = get_registry()
    existing = config.registry.queryUtility(IEngineRegistry)
    if existing is not None and existing is not registry and len(existing):
        raise ConfigurationError(
            f"this Pyramid app already has pyramid_polydatum engines ({', '.join(existing.names)}); "
            "configure every engine with initialize_engine(), or none"
        )
    settings = config.get_settings()
    if settings is not None and "polydatum.transactions" not in settings and not _transactions_available():
        settings["polydatum.transactions"] = False
    config.registry.registerUtility(registry, IEngineRegistry)
    config.include("pyramid_polydatum")

    parsed = parse_settings(config.get_settings() or {})
    if not parsed["sessions"]:
        raise ConfigurationError("polydatum.sessions is off: sqlassist's request sessions need ctx sessions")
    setattr(config.registry, REGISTRY_ATTR, {
        "request_method_name": request_method_name,
        "dal_method_name": parsed["request_method"],
        "sessions_name": parsed["sessions"],
    })
    bind_data_manager(get_data_manager(config.registry), parsed["sessions"])
    config.action(None, lambda: _refuse_foreign_engines(registry), order=ENGINE_ORDER + 1)
    config.add_request_method(lambda request: dbContainerClass(request), request_method_name, reify=True)


def _transactions_available() -> bool:
    if transaction_disabled():
        return False
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("transaction", "pyramid_tm", "zope.sqlalchemy"))


def _refuse_foreign_engines(registry: EngineRegistry) -> None:
    """Runs after the include's engine actions: engines that did not come through ``initialize_engine``."""
    foreign = [name for name in registry.names if name not in initialized_names()]
    if foreign:
        raise ConfigurationError(
            f"engines {', '.join(foreign)} were configured through pyramid_polydatum (settings or "
            "add_polydatum_engine) in an app using pyramid_polydatum.sqlassist: use initialize_engine() for all"
        )
