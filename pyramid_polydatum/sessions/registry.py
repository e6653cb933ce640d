"""The engine registry: named SQLAlchemy engines, each with its session factory and transaction role."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal, cast

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from . import forksafe, hygiene, roles, usage
from . import origin as origins
from . import readonly as readonly_guards
from .connect import checked_creator
from .errors import ConfigurationError, UnknownEngine
from .joining import join_sessions_of
from .options import check_engine_options, convert_engine_options, parse_engine_settings
from .origin import Origin
from .roles import LOGGER, READER, WRITER

log = logging.getLogger("pyramid_polydatum")

TransactionMode = Literal["joined", "independent", "none"]

__all__ = ["LOGGER", "READER", "WRITER", "EngineEntry", "EngineRegistry", "masked_url"]


def masked_url(engine_or_url: Engine | URL) -> str:
    """The URL with its password and secret query values replaced by ``***``: the only form this package shows.

    A password with an unescaped ``@`` is split by URL parsing, its tail taken for the host: whatever comes
    before the host's last ``@`` is masked too. Query parameters that carry secrets (``sslpassword``,
    ``password`` ...) are masked like the password.
    """
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    if url.host and "@" in url.host:
        url = url.set(host="***@" + url.host.rsplit("@", 1)[1])
    if url.query and any(is_secret_name(k) for k in url.query):
        url = url.set(query={k: ("***" if is_secret_name(k) else v) for k, v in url.query.items()})
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


_SECRET_NAME = re.compile(r"pass|pwd|secret|token|sslkey|ssl_key|credential|auth", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for option names that carry secrets: ``password``, ``passwd``, ``sslpassword``, ``sslkey`` ..."""
    return bool(_SECRET_NAME.search(name))


class EngineEntry:
    """One named engine: the engine, its session factory, and how its sessions behave.

    ``transaction`` is ``"joined"`` (sessions join the unit of work's ``transaction`` manager through
    zope.sqlalchemy and commit or abort with it), ``"independent"`` (sessions commit on their own when the unit of
    work ends, whatever its outcome: an audit log survives a failed request) or ``"none"`` (never committed; what
    read-only engines use).
    """

    def __init__(
        self,
        name: str,
        engine: Engine,
        *,
        is_default: bool,
        is_readonly: bool,
        transaction: TransactionMode,
        session_options: Mapping[str, Any] | None = None,
        fork_guard: bool = True,
    ) -> None:
        self.name = name
        self.is_default = is_default
        self.is_readonly = is_readonly
        self.transaction: TransactionMode = transaction
        self.fork_guard = fork_guard
        self.session_options = dict(session_options or {})
        self.counts_statements = False
        self.engine = engine
        self.sessionmaker: sessionmaker[Session] = sessionmaker(bind=engine, **self.session_options)
        self._guard(engine)
        if is_readonly:
            readonly_guards.guard_sessionmaker(self.sessionmaker, name)
        if transaction == "joined":
            join_sessions_of(self.sessionmaker, name)

    def count_statements(self) -> None:
        """Count statements and SQL time per context session (for the debug toolbar); idempotent."""
        if self.counts_statements:
            return
        self.counts_statements = True
        usage.count_statements_of(self.engine)
        usage.bind_counters_of(self.sessionmaker)

    def _guard(self, engine: Engine) -> None:
        hygiene.install_checkin_rollback(engine)
        if getattr(self, "counts_statements", False):
            usage.count_statements_of(engine)
        if self.is_readonly:
            readonly_guards.guard_engine(engine, self.name)
        if self.fork_guard:
            forksafe.install_pid_guard(engine)

    def replace_engine(self, engine: Engine, *, dispose_old: bool = True) -> None:
        """Swap the engine (for ``reinit_engine``); sessions created afterwards use the new one."""
        old, self.engine = self.engine, engine
        self._guard(engine)
        self.sessionmaker.configure(bind=engine)
        if dispose_old and old is not engine:
            old.dispose()

    def new_session(self, info: dict[str, Any] | None = None) -> Session:
        """A session of this engine whose ``info`` holds ``info`` and the engine's name."""
        session = self.sessionmaker()
        if info:
            session.info.update(info)
        session.info["engine_name"] = self.name
        return session

    @property
    def role(self) -> str:
        """For display: ``default, joined``, ``read-only``, ``independent``, ``joined`` ..."""
        parts = ["default"] if self.is_default else []
        parts.append("read-only" if self.is_readonly else self.transaction)
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<EngineEntry {self.name} {masked_url(self.engine)} ({self.role})>"


class EngineRegistry:
    """Named engines: ``writer``, ``reader``, ``logger`` or any other names.

    Reads fall back to the writer when no ``reader`` is registered; the writer is the engine named ``writer`` or,
    failing that, the default engine. After a fork, every engine of a live registry drops its pool in the child.
    """

    def __init__(self, *, fork_safe: bool = True) -> None:
        self._entries: dict[str, EngineEntry] = {}
        self._default_origin: tuple[str, Origin] | None = None
        self._count_statements = False
        self.fork_safe = fork_safe
        if fork_safe:
            forksafe.register_after_fork(self)

    def disable_fork_hooks(self) -> None:
        """Stop resetting pools after a fork (the checkout guard of each engine stays)."""
        self.fork_safe = False
        forksafe.unregister_after_fork(self)

    # -- building ------------------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        engine: Engine | str | URL,
        *,
        default: bool | None = None,
        readonly: bool | None = None,
        transaction: TransactionMode | None = None,
        session_options: Mapping[str, Any] | None = None,
        fork_guard: bool = True,
        origin: Origin | None = None,
        **engine_options: Any,
    ) -> EngineEntry:
        """Register an engine (or create one from a URL with ``engine_options``).

        Defaults follow the name: ``reader`` is read-only, ``logger`` is independent, others join the
        transaction; read-only engines never commit. The default writer is the engine named ``writer``, or the
        one given ``default=True`` (never both, never an independent or read-only engine). ``origin`` says how
        messages name the options (the settings key or the directive argument).
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"engine name {name!r} is not an identifier")
        origin = origin or origins.from_call("EngineRegistry.add", name)
        if name in self._entries:
            raise ConfigurationError(f"{origin.key('url')}: an engine named {name!r} is already registered")
        given: dict[str, Any] = {
            "default": default, "readonly": readonly, "transaction": transaction, "fork_guard": fork_guard,
        }
        if not isinstance(engine, Engine):
            given["url"] = engine
        spec = convert_engine_options(origin, {**given, **engine_options}, session_options)
        default, readonly = spec.entry.get("default"), spec.entry.get("readonly")
        transaction, fork_guard = spec.entry.get("transaction"), spec.entry.get("fork_guard", True)
        engine_options, session_options = spec.engine, spec.session
        engine = engine if isinstance(engine, Engine) else spec.url
        role = roles.resolve_role(name, origin, default=default, readonly=readonly, transaction=transaction)
        is_readonly, mode = role.is_readonly, cast(TransactionMode, role.transaction)
        if role.wants_default and self._default_origin is not None:
            raise ConfigurationError(
                f"{origin.key('default')}: engine {name!r} and {self._default_origin[0]!r} "
                f"({self._default_origin[1].key('default')}) both claim to be the default writer"
                + (" (the engine named writer always is)" if WRITER in (name, self._default_origin[0]) else "")
            )
        if is_readonly and (readonly_guards.is_autocommit(engine_options) or (
            isinstance(engine, Engine) and readonly_guards.is_autocommit(engine.get_execution_options())
        )):
            raise ConfigurationError(
                f"{origin.key('isolation_level')}: engine {name!r} is read-only but uses AUTOCOMMIT isolation: "
                "without a transaction the database cannot enforce READ ONLY"
            )
        if not isinstance(engine, Engine):
            engine = _create_engine(origin, engine, engine_options)
        elif engine_options:
            raise ConfigurationError(
                f"{origin.key(next(iter(engine_options)))}: engine options given with an Engine that already exists"
            )
        for other in self._entries.values():
            if other.engine is engine and (is_readonly or other.is_readonly):
                raise ConfigurationError(
                    f"engines {other.name!r} and {name!r} share one Engine but only one is read-only: a read-only "
                    "engine needs its own Engine (give it the URL; it may be the same database)"
                )
        entry = EngineEntry(
            name, engine, is_default=role.wants_default, is_readonly=is_readonly, transaction=mode,
            session_options=session_options, fork_guard=fork_guard,
        )
        if role.wants_default:
            self._default_origin = (name, origin)
        self._entries[name] = entry
        if self._count_statements:
            entry.count_statements()
        return entry

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], prefix: str = "polydatum.engine.") -> EngineRegistry:
        """Build a registry from flat settings: ``<prefix><name>.url``, ``<prefix><name>.pool_size`` ...

        Every value is converted by the parse table in ``options``; problems raise ``ConfigurationError`` naming
        the setting, before any engine is created.
        """
        specs = parse_engine_settings(settings, prefix)
        registry = cls()
        try:
            for name, spec in specs.items():
                registry.add(
                    name, spec.url, session_options=spec.session, origin=origins.from_settings(prefix, name),
                    **spec.entry, **spec.engine,
                )
            registry.validate(prefix)
        except BaseException:
            registry.dispose()
            raise
        return registry

    def validate(self, prefix: str = "polydatum.engine.") -> None:
        """Check the registry as a whole: there are engines, and a default writer among them, named on purpose.

        ``prefix`` is only used to name the settings in the message.
        """
        if not self._entries:
            raise ConfigurationError("no engine is configured")
        if not any(e.is_default for e in self._entries.values()):
            raise ConfigurationError(
                f"setting {prefix}writer.url is missing: engines {', '.join(sorted(self._entries))} are configured "
                "but none is the writer; configure an engine named writer (add_polydatum_engine('writer', ...) "
                f"in code), or mark one writable engine as the default writer with {prefix}<name>.default = true"
            )

    # -- lookup --------------------------------------------------------------------------------------------

    def get(self, name: str) -> EngineEntry:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise UnknownEngine(f"no engine named {name!r} (registered: {known})") from None

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[EngineEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    @property
    def default(self) -> EngineEntry:
        for entry in self._entries.values():
            if entry.is_default:
                return entry
        raise UnknownEngine("no default engine is registered")

    @property
    def writer(self) -> EngineEntry:
        """The ``writer`` engine, or the default one."""
        return self._entries.get(WRITER) or self.default

    @property
    def reader(self) -> EngineEntry:
        """The ``reader`` engine, or the writer when there is none."""
        return self._entries.get(READER) or self.writer

    def resolve(self, name: str) -> EngineEntry:
        """``get`` with the fallbacks of the well-known names (``reader`` → writer, ``writer`` → default)."""
        if name == READER:
            return self.reader
        if name == WRITER:
            return self.writer
        return self.get(name)

    def enable_statistics(self) -> None:
        """Count statements and SQL time of every engine, present and future, per context (for tooling)."""
        self._count_statements = True
        for entry in self._entries.values():
            entry.count_statements()

    @property
    def statistics_enabled(self) -> bool:
        return self._count_statements

    def remove(self, name: str) -> EngineEntry:
        """Forget the engine ``name`` (its pool is left to the caller); ``UnknownEngine`` when there is none.

        Contexts that already hold one of its sessions keep it until they end.
        """
        entry = self.get(name)
        del self._entries[name]
        if self._default_origin is not None and self._default_origin[0] == name:
            self._default_origin = None
        return entry

    # -- lifecycle -----------------------------------------------------------------------------------------

    def dispose(self, close: bool = True) -> None:
        """Dispose of every engine's pool (``close=False`` after a fork: forget, do not close)."""
        for entry in self._entries.values():
            entry.engine.dispose(close=close)

    def after_fork(self) -> None:
        """In a forked child: forget every pooled connection inherited from the parent, closing none."""
        self.dispose(close=False)

    def __repr__(self) -> str:
        return f"<EngineRegistry {', '.join(repr(e) for e in self._entries.values())}>"


def _create_engine(origin: Origin, url: str | URL, options: Mapping[str, Any]) -> Engine:
    """``create_engine`` with every failure named by the option (or the URL) that caused it."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # SQLAlchemy's message repeats the URL, password included: never pass it on.
        raise ConfigurationError(
            f"{origin.key('url')}: not a valid SQLAlchemy URL (a password containing '@', ':', '/' or '%' must be "
            "percent-encoded)"
        ) from None
    if parsed.host and "@" in parsed.host:
        raise ConfigurationError(
            f"{origin.key('url')}: the host part contains '@' ({masked_url(parsed)}): a password containing "
            "'@', ':', '/' or '%' must be percent-encoded (urllib.parse.quote(password, safe=''))"
        )
    check_engine_options(origin, parsed.get_backend_name(), options)
    options = dict(options)
    if "creator" in options:
        options["creator"] = checked_creator(origin.key("creator"), options["creator"])
    try:
        return create_engine(parsed, **options)
    except TypeError as error:
        named = [o for o in re.findall(r"'(\w+)'", str(error).split(" sent to ")[0]) if o in options]
        key = origin.key(named[0]) if named else origin.key("url")
        raise ConfigurationError(f"{key}: not accepted with this database or pool class ({error})") from None
    except NoSuchModuleError as error:
        key = origin.key("plugins") if "sqlalchemy.plugins" in str(error) else origin.key("url")
        raise ConfigurationError(f"{key}: {error} (misspelt dialect or driver name?)") from None
    except ArgumentError as error:
        raise ConfigurationError(f"{origin.key('url')} ({masked_url(parsed)}): {error}") from None
    except ImportError as error:
        raise ConfigurationError(
            f"{origin.key('url')}: the database driver of {parsed.drivername!r} is not installed ({error})"
        ) from None
