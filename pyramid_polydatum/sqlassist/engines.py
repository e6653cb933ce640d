"""pyramid_sqlassist's engine functions, as a face over one module-level ``EngineRegistry``.

``initialize_engine`` adds the engine to that registry, which owns its sessionmaker, read-only guards, fork hooks
and ``transaction`` joining; nothing here creates or tracks sessions of its own (the package docstring lists
where this face departs from pyramid_sqlassist, and why).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sqlalchemy.orm
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..sessions.container import ContextSessions
from ..sessions.errors import ConfigurationError, UnknownEngine
from ..sessions.joining import TRANSACTION_MANAGER_KEY
from ..sessions.options import as_bool
from ..sessions.registry import EngineEntry, EngineRegistry, masked_url

if TYPE_CHECKING:
    from ..core.manager import DataManager

log = logging.getLogger("pyramid_polydatum.sqlassist")

#: pyramid_sqlassist's switch: set it to 1/true/yes and ``transaction``/``zope.sqlalchemy`` are never imported.
DISABLE_TRANSACTION_ENV = "SQLASSIST_DISABLE_TRANSACTION"
ALL = "!all"
DEFAULT = "!default"


class EngineNotConfigured(UnknownEngine, RuntimeError):
    """No engine by that name: a ``KeyError`` (as sqlassist's ``reinit_engine`` raised) and a ``RuntimeError``
    (as its ``get_wrapped_engine`` raised), so either ``except`` keeps working."""


def transaction_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``SQLASSIST_DISABLE_TRANSACTION`` is set (``1``/``true``/``yes``; ``0``/``false``/``no`` or unset
    is off). Any other value is a ``ConfigurationError`` naming the variable, never a silent guess."""
    value = (os.environ if environ is None else environ).get(DISABLE_TRANSACTION_ENV, "")
    try:
        return as_bool(value)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {DISABLE_TRANSACTION_ENV}={value!r}: expected 1/true/yes or 0/false/no"
        ) from None


#: The switch as read at import, like pyramid_sqlassist's constant; the functions here read it when they run.
SQLASSIST_DISABLE_TRANSACTION: bool = transaction_disabled()


class EngineWrapper:
    """sqlassist's view of one engine: a thin wrapper over this package's ``EngineEntry``."""

    def __init__(self, entry: EngineEntry, *, is_scoped: bool = True, use_zope: bool = False) -> None:
        self.entry = entry
        self.is_scoped = is_scoped  # informational: sessions are per request/context whatever it says
        self.use_zope = use_zope

    @property
    def engine_name(self) -> str:
        return self.entry.name

    @property
    def sa_engine(self) -> Engine:
        return self.entry.engine

    @property
    def sa_sessionmaker(self) -> sessionmaker[Session]:
        return self.entry.sessionmaker

    @property
    def is_readonly(self) -> bool:
        return self.entry.is_readonly

    @property
    def session(self) -> Session:
        """``get_session(self.engine_name)``: read its docstring about who closes the session."""
        return get_session(self.engine_name)

    def new_session(self) -> Session:
        """A session of its own, outside any context; the caller closes it.

        A ``use_zope=True`` engine's session joins the thread-local ``transaction.manager``, as sqlassist's scoped
        sessions did: ``transaction.commit()`` commits it.
        """
        info: dict[str, Any] = {}
        if self.entry.transaction == "joined":
            import transaction

            info[TRANSACTION_MANAGER_KEY] = transaction.manager
        return self.entry.new_session(info)

    def dispose(self, close: bool = False) -> None:
        """Drop the engine's pool; by default without closing its connections (the post-fork use sqlassist had)."""
        self.entry.engine.dispose(close=close)

    def __repr__(self) -> str:
        return f"<EngineWrapper {self.engine_name} {masked_url(self.sa_engine)} ({self.entry.role})>"


class _State:
    """The compat layer's module state: the registry, and what sqlassist knew that the registry does not."""

    def __init__(self, registry: EngineRegistry) -> None:
        self.registry = registry
        self.default_name: str | None = None
        self.wrappers: dict[str, EngineWrapper] = {}
        #: (DataManager, sessions resource name) pairs whose contexts hold this registry's sessions
        self.bound: list[tuple[DataManager, str]] = []


_lock = threading.RLock()
_state = _State(EngineRegistry())


def get_registry() -> EngineRegistry:
    """The ``EngineRegistry`` behind every function of this module (and, once registered, ``request.dal``)."""
    return _state.registry


def initialized_names() -> frozenset[str]:
    """Names of the engines added through ``initialize_engine``."""
    return frozenset(_state.wrappers)


def _reset_for_tests(registry: EngineRegistry | None = None) -> EngineRegistry:
    """Start over with ``registry`` (or an empty one) and forget defaults and bound DataManagers.

    The previous registry is not disposed: whoever created its engines still owns them.
    """
    global _state
    with _lock:
        _state = _State(registry if registry is not None else EngineRegistry())
        return _state.registry


def bind_data_manager(data_manager: DataManager, sessions_name: str = "db") -> None:
    """Let ``get_session`` find the sessions of ``data_manager``'s active context (``ctx.<sessions_name>``).

    ``register_request_method`` does this for the Pyramid include's DataManager; a worker that installs
    ``install_sessions(data_manager, get_registry())`` itself calls it once.
    """
    with _lock:
        if (data_manager, sessions_name) not in _state.bound:
            _state.bound.append((data_manager, sessions_name))


def initialize_engine(
    engine_name: str,
    sa_engine: Engine,
    is_default: bool = False,
    use_zope: bool = False,
    sa_sessionmaker_params: Mapping[str, Any] | None = None,
    is_readonly: bool = False,
    is_scoped: bool = True,
    model_package: ModuleType | None = None,
    reflect: bool = False,
    is_configure_mappers: bool = True,
    is_autocommit: bool | None = None,
) -> EngineWrapper:
    """Register ``sa_engine`` as ``engine_name``, as pyramid_sqlassist did; call it before ``config.commit()``.

    - ``use_zope=True``: sessions join the request's ``transaction`` (pyramid_tm commits them; outside a request,
      ``transaction.commit()``). ``use_zope=False``: the app commits (``session.commit()``); whatever it did not
      commit is rolled back when the request ends.
    - ``is_readonly=True``: sessions refuse to flush or commit and the database refuses writes (``use_zope`` is
      then irrelevant: a read-only session has nothing to commit).
    - Initialising a name again replaces its engine, as sqlassist did (an app's ``main()`` run once per test); the
      old engine's pool is forgotten without closing connections another process may share.
    - ``is_scoped`` is accepted and ignored: every session belongs to one request (or ``DataManager`` context).
      sqlassist's thread-local scoped sessions leaked between requests served by one thread, and its non-scoped
      ones were one session per process that each request's cleanup closed under the others.
    - ``sa_sessionmaker_params`` go to the engine's ``sessionmaker``; ``autocommit=False`` is dropped (SQLAlchemy
      2 has no other kind), while ``autocommit=True``, ``extension`` and ``bind`` are refused.
    - ``is_autocommit=True`` is refused (no autocommit sessions in SQLAlchemy 2) unless ``is_readonly`` is set,
      which is what sqlassist used it for. ``model_package`` is ignored (sqlassist ignored it too);
      ``reflect=True`` raises ``NotImplementedError`` (sqlassist's did as well, after registering the engine).
    """
    if engine_name in (ALL, DEFAULT):
        raise ValueError(f"Invalid `engine_name`: {engine_name!r} is reserved")
    if not isinstance(sa_engine, Engine):
        raise ConfigurationError(f"engine {engine_name!r}: sa_engine must be a SQLAlchemy Engine")
    if reflect:
        raise NotImplementedError(f"engine {engine_name!r}: reflect=True is not supported")
    if is_autocommit and not is_readonly:
        raise ConfigurationError(
            f"engine {engine_name!r}: is_autocommit=True needs autocommit sessions, which SQLAlchemy 2 removed; use "
            "is_readonly=True for a reader, or pass sa_engine.execution_options(isolation_level='AUTOCOMMIT')"
        )
    options = _session_options(engine_name, sa_sessionmaker_params, bool(is_readonly))
    joined = bool(use_zope) and not is_readonly
    if joined:
        _require_transaction_support(engine_name)
    with _lock:
        if engine_name in _state.registry:
            # sqlassist replaced the name: apps whose main() runs once per functional test rely on it. The old
            # pool is forgotten, not closed: another process (a forked worker) may still use its connections.
            old = _state.registry.remove(engine_name)
            _state.wrappers.pop(engine_name, None)
            if _state.default_name == engine_name:
                _state.default_name = None
            if old.engine is not sa_engine:
                old.engine.dispose(close=False)
            log.info("initialize_engine: %r replaces the engine registered under that name", engine_name)
        entry = _state.registry.add(
            engine_name, sa_engine, default=True if is_default and not is_readonly else None,
            readonly=bool(is_readonly), transaction="joined" if joined else "none", session_options=options,
        )
        wrapper = EngineWrapper(entry, is_scoped=bool(is_scoped), use_zope=joined)
        _state.wrappers[engine_name] = wrapper
        if is_default:
            _state.default_name = engine_name
    log.info("initialized engine %r: %s (%s)", engine_name, masked_url(sa_engine), entry.role)
    if is_configure_mappers:
        sqlalchemy.orm.configure_mappers()
    return wrapper


def _session_options(name: str, params: Mapping[str, Any] | None, is_readonly: bool) -> dict[str, Any]:
    options = dict(params or {})
    if "bind" in options:
        raise ConfigurationError(f"engine {name!r}: sa_sessionmaker_params cannot set 'bind'; it is sa_engine")
    if "extension" in options:
        raise ConfigurationError(
            f"engine {name!r}: sa_sessionmaker_params 'extension' was removed from SQLAlchemy; use session events, "
            "or use_zope=True for zope.sqlalchemy"
        )
    if options.pop("autocommit", False):
        raise ConfigurationError(
            f"engine {name!r}: sa_sessionmaker_params autocommit=True: SQLAlchemy 2 has no autocommit sessions "
            "(use is_readonly=True for a reader)"
        )
    if is_readonly:
        options.setdefault("expire_on_commit", False)
    return options


def _require_transaction_support(name: str) -> None:
    if transaction_disabled():
        raise ConfigurationError(
            f"engine {name!r}: use_zope=True, but {DISABLE_TRANSACTION_ENV} disables the transaction integration"
        )
    try:
        import transaction  # noqa: F401
        import zope.sqlalchemy  # noqa: F401
    except ImportError as error:
        raise ConfigurationError(
            f"engine {name!r}: use_zope=True needs the 'transaction' and 'zope.sqlalchemy' packages ({error})"
        ) from None


def get_wrapped_engine(name: str = DEFAULT) -> EngineWrapper:
    """The ``EngineWrapper`` named ``name``; ``!default`` is the engine initialized with ``is_default=True``,
    else the registry's default (the writer). Unknown names raise ``EngineNotConfigured``."""
    if name == ALL:
        raise ValueError("Invalid `engine_name`: `!all` is reserved")
    state = _state
    try:
        if name == DEFAULT:
            name = state.default_name or state.registry.default.name
        entry = state.registry.get(name)
    except UnknownEngine as error:
        raise EngineNotConfigured(f"No engine {name!r} was configured: {error}") from None
    wrapper = state.wrappers.get(name)
    if wrapper is None or wrapper.entry is not entry:
        wrapper = EngineWrapper(entry, use_zope=entry.transaction == "joined")
    return wrapper


def current_sessions() -> ContextSessions | None:
    """The ``ContextSessions`` of the code running now, or None.

    That is the active context (in this thread or task) of a bound DataManager, else the context of the request
    Pyramid is serving in this thread (``pyramid.threadlocal.get_current_request()``): a request's context is
    owned by the request, not put on a thread's stack.
    """
    state = _state
    request = None
    for manager, sessions_name in list(state.bound):
        context = manager.get_active_context()
        if context is None:
            if request is None:
                from pyramid.threadlocal import get_current_request

                from ..glue.request import request_context

                request = get_current_request()
            found = request_context(request) if request is not None else None
            context = found if found is not None and found.data_manager is manager else None
        if context is None or manager.get_resource(sessions_name) is None:
            continue
        sessions = getattr(context, sessions_name)
        if isinstance(sessions, ContextSessions) and sessions.registry is state.registry:
            return sessions
    return None


def get_session(engine_name: str) -> Session:
    """The session of ``engine_name`` for the code running now.

    Inside a request (once ``request.<name>`` or ``request.dal`` was used) or any active context of a bound
    DataManager, this is that context's session: the very object ``request.dbSession.writer`` and ``ctx.db``
    return, closed (and committed or rolled back) when the request or context ends. Do not close it yourself.

    Anywhere else (a script, a task, startup code) there is no request to own a session, so this returns a NEW
    session from the engine's sessionmaker on every call, and the caller must close it (``with
    get_session("writer") as session:``). sqlassist returned one scoped session per thread instead, which
    silently carried state from one job to the next.
    """
    wrapper = get_wrapped_engine(engine_name)
    sessions = current_sessions()
    if sessions is not None:
        return sessions.get(wrapper.engine_name)
    return wrapper.new_session()


def reinit_engine(engine_name: str = ALL) -> None:
    """After a fork, in the child: drop the pool of one engine (or ``!all``) without closing its connections.

    Closing them (``dispose()``, as sqlassist did) would close sockets the parent process still uses; the
    child's next checkout opens a connection of its own. Unknown names raise ``EngineNotConfigured``.
    """
    entries = list(_state.registry) if engine_name == ALL else [get_wrapped_engine(engine_name).entry]
    for entry in entries:
        entry.engine.dispose(close=False)
        log.info("reinit_engine: %r forgot its pooled connections (pid %d)", entry.name, os.getpid())
