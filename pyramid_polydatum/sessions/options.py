"""The parse table for engine settings: every key, how its string value is converted, and where it goes.

``sqlalchemy.engine_from_config`` converts only a handful of options and passes ``pool_pre_ping = false`` on as
the truthy string ``'false'``; every option here is converted explicitly, and an unknown key is an error naming
the key instead of a ``TypeError`` from deep inside ``create_engine``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import origin as origins
from . import roles
from .errors import ConfigurationError
from .roles import TRANSACTION_MODES

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f", ""})


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"expected a boolean (true/false, yes/no, on/off, 1/0), got {value!r}")


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(str(value).strip()) if not isinstance(value, int) else value


def as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return float(str(value).strip()) if not isinstance(value, int | float) else float(value)


def int_at_least(low: int, hint: str = "") -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = as_int(value)
        if number < low:
            raise ValueError(f"expected an integer >= {low}, got {number}{hint}")
        return number

    return convert


def as_pool_recycle(value: Any) -> int:
    number = as_int(value)
    if number != -1 and number < 1:
        raise ValueError(f"expected seconds >= 1, or -1 for never, got {number}")
    return number


def as_timeout(value: Any) -> float:
    number = as_float(value)
    if not number > 0:
        raise ValueError(f"expected a number of seconds > 0, got {number}")
    return number


def one_of(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}" + roles.suggest(text, choices))
        return text

    return convert


def as_isolation_level(value: Any) -> str:
    """``read committed``, ``READ_COMMITTED`` ... as SQLAlchemy spells it; checked against the dialect later."""
    text = " ".join(str(value).strip().upper().replace("_", " ").split())
    if text not in ALL_ISOLATION_LEVELS:
        raise ValueError(
            f"expected one of {', '.join(ALL_ISOLATION_LEVELS)}, got {value!r}"
            + roles.suggest(text, ALL_ISOLATION_LEVELS)
        )
    return text


def as_callable(value: Any) -> Any:
    obj = as_dotted(value)
    if not callable(obj):
        raise ValueError(f"expected a callable, got {obj!r}")
    return obj


def as_pool_class(value: Any) -> Any:
    from sqlalchemy.pool import Pool

    obj = as_dotted(value)
    if not (isinstance(obj, type) and issubclass(obj, Pool)):
        raise ValueError(f"expected a sqlalchemy.pool.Pool subclass, got {obj!r}")
    return obj


def as_session_class(value: Any) -> Any:
    from sqlalchemy.orm import Session

    obj = as_dotted(value)
    if not (isinstance(obj, type) and issubclass(obj, Session)):
        raise ValueError(f"expected a sqlalchemy.orm.Session subclass, got {obj!r}")
    return obj


#: Isolation levels per dialect (as SQLAlchemy accepts them); another dialect is checked against all of them.
ISOLATION_LEVELS: dict[str, tuple[str, ...]] = {
    "postgresql": ("AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE"),
    "mysql": ("AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE"),
    "mariadb": ("AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE"),
    "sqlite": ("AUTOCOMMIT", "READ UNCOMMITTED", "SERIALIZABLE"),
}
ALL_ISOLATION_LEVELS = (
    "AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE", "SNAPSHOT",
)
JOIN_TRANSACTION_MODES = ("conservative_savepoint", "create_savepoint", "control_fully", "rollback_only")
PARAMSTYLES = ("qmark", "numeric", "named", "format", "pyformat", "numeric_dollar")
#: Options only a pool that keeps connections (QueuePool and its subclasses) accepts.
QUEUE_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")


def as_str(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("expected a non-empty value")
    return text


def as_echo(value: Any) -> bool | str:
    if isinstance(value, str) and value.strip().lower() == "debug":
        return "debug"
    return as_bool(value)


def as_reset_on_return(value: Any) -> str | None:
    text = "none" if value is None else str(value).strip().lower()
    if text in ("none", ""):
        return None
    if text in ("rollback", "commit"):
        return text
    raise ValueError(
        f"expected rollback, commit or none, got {value!r}" + roles.suggest(text, ("rollback", "commit", "none"))
    )


def as_json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    parsed = json.loads(str(value))
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in str(value).replace(",", " ").split() if part]


def as_dotted(value: Any) -> Any:
    """A Python object named by ``package.module:attr`` or ``package.module.attr`` (or the object itself)."""
    if not isinstance(value, str):
        return value
    import importlib

    text = value.strip()
    if not text.startswith("sqlalchemy.") and "." not in text and ":" not in text:
        text = f"sqlalchemy.pool.{text}"  # NullPool, StaticPool, QueuePool ...
    module_name, _, attr = text.partition(":") if ":" in text else text.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def as_transaction_mode(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in TRANSACTION_MODES:
        raise ValueError(f"expected one of {', '.join(TRANSACTION_MODES)}, got {value!r}")
    return text


def as_url(value: Any) -> Any:
    """A URL string or ``sqlalchemy.URL``; ``env:NAME`` reads it from the environment variable NAME."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("env:"):
            variable = text[4:].strip()
            if variable not in os.environ:
                raise ValueError(f"environment variable {variable} is not set")
            text = os.environ[variable]
        if not text:
            raise ValueError("empty URL")
        return text
    return value


#: ``create_engine`` keyword arguments that can be given as settings, with their converters.
ENGINE_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "echo": as_echo,
    "echo_pool": as_echo,
    "enable_from_linting": as_bool,
    "hide_parameters": as_bool,
    "future": as_bool,
    "pool_pre_ping": as_bool,
    "pool_use_lifo": as_bool,
    "pool_size": int_at_least(1, " (0 would mean no limit: use max_overflow = -1 for that, or poolclass = NullPool)"),
    "max_overflow": int_at_least(-1, " (-1 means no limit)"),
    "pool_recycle": as_pool_recycle,
    "query_cache_size": int_at_least(0),
    "label_length": int_at_least(1),
    "max_identifier_length": int_at_least(1),
    "insertmanyvalues_page_size": int_at_least(1),
    "use_insertmanyvalues": as_bool,
    "pool_timeout": as_timeout,
    "isolation_level": as_isolation_level,
    "logging_name": as_str,
    "pool_logging_name": as_str,
    "paramstyle": one_of(*PARAMSTYLES),
    "pool_reset_on_return": as_reset_on_return,
    "poolclass": as_pool_class,
    "creator": as_callable,
    "json_serializer": as_callable,
    "json_deserializer": as_callable,
    "connect_args": as_json_object,
    "execution_options": as_json_object,
    "plugins": as_list,
}

#: ``sessionmaker`` keyword arguments, given as ``session.<name>``.
SESSION_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "autoflush": as_bool,
    "expire_on_commit": as_bool,
    "autobegin": as_bool,
    "twophase": as_bool,
    "join_transaction_mode": one_of(*JOIN_TRANSACTION_MODES),
    "close_resets_only": as_bool,
    "class_": as_session_class,
    "query_cls": as_dotted,
    "info": as_json_object,
}

#: pyramid_polydatum's own per-engine settings.
ENTRY_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "url": as_url,
    "default": as_bool,
    "readonly": as_bool,
    "transaction": as_transaction_mode,
    "fork_guard": as_bool,
}


@dataclass
class EngineSpec:
    """The converted settings of one engine."""

    name: str
    url: Any = field(default=None, repr=False)  # may carry a password
    entry: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)
    session: dict[str, Any] = field(default_factory=dict)


def convert(key: str, converter: Callable[[Any], Any], value: Any) -> Any:
    """``converter(value)``; a failure is a ``ConfigurationError`` whose message starts with ``key``.

    ``key`` is ``setting polydatum.engine.writer.pool_size`` or ``add_polydatum_engine('writer') argument
    pool_size``; a bare key (no space) is taken for a setting's name.
    """
    try:
        return converter(value)
    except (ValueError, TypeError, ImportError, AttributeError) as error:
        label = key if " " in key else f"setting {key}"
        raise ConfigurationError(f"{label}: {error}") from None


def parse_engine_settings(settings: Mapping[str, Any], prefix: str) -> dict[str, EngineSpec]:
    """Group ``<prefix><engine name>.<option>`` settings into one converted ``EngineSpec`` per engine name.

    Keys outside ``prefix`` are ignored; an unknown option under it is a ``ConfigurationError`` naming the key
    (with the nearest valid option), as is any value out of its range.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for key in sorted(settings):
        if not key.startswith(prefix):
            continue
        name, _, option = key[len(prefix):].partition(".")
        if not name.isidentifier() or not option:
            raise ConfigurationError(f"setting {key}: expected {prefix}<engine name>.<option>")
        grouped.setdefault(name, {})[option] = settings[key]
    specs: dict[str, EngineSpec] = {}
    for name, values in grouped.items():
        origin = origins.from_settings(prefix, name)
        session = {k[len("session."):]: v for k, v in values.items() if k.startswith("session.")}
        rest = {k: v for k, v in values.items() if not k.startswith("session.")}
        spec = convert_engine_options(origin, rest, session)
        if spec.url is None:
            raise ConfigurationError(f"{origin.key('url')} is missing: engine {name!r} needs a database URL")
        roles.resolve_role(  # the role errors of one engine, at once (the registry checks them again)
            name, origin, default=spec.entry.get("default"),
            readonly=spec.entry.get("readonly"), transaction=spec.entry.get("transaction"),
        )
        specs[name] = spec
    return specs


def convert_engine_options(
    origin: origins.Origin, options: Mapping[str, Any], session_options: Mapping[str, Any] | None = None
) -> EngineSpec:
    """Convert and check one engine's options (settings strings or directive/API values) by the table above.

    Used for settings, ``add_polydatum_engine`` and ``EngineRegistry.add`` alike: every message names the
    option as ``origin`` spells it.
    """
    spec = EngineSpec(origin.engine)
    for option, value in options.items():
        if option in ENTRY_OPTIONS:
            if value is not None:
                spec.entry[option] = convert(origin.key(option), ENTRY_OPTIONS[option], value)
        elif option in ENGINE_OPTIONS:
            spec.engine[option] = convert(origin.key(option), ENGINE_OPTIONS[option], value)
        else:
            known = sorted({*ENTRY_OPTIONS, *ENGINE_OPTIONS, "session.<option>"})
            raise ConfigurationError(
                f"{origin.key(option)}: unknown engine option {option!r}{roles.suggest(option, known)} "
                f"(known: {', '.join(known)})"
            )
    for option, value in (session_options or {}).items():
        if option not in SESSION_OPTIONS:
            raise ConfigurationError(
                f"{origin.session_key(option)}: unknown session option {option!r}"
                f"{roles.suggest(option, SESSION_OPTIONS)} (known: {', '.join(sorted(SESSION_OPTIONS))})"
            )
        spec.session[option] = convert(origin.session_key(option), SESSION_OPTIONS[option], value)
    spec.url = spec.entry.pop("url", None)
    return spec


def check_engine_options(origin: origins.Origin, dialect: str, options: Mapping[str, Any]) -> None:
    """The checks that need the dialect or several options together (before ``create_engine``)."""
    from sqlalchemy.pool import QueuePool

    level = options.get("isolation_level")
    allowed = ISOLATION_LEVELS.get(dialect)
    if level is not None and allowed is not None and level not in allowed:
        raise ConfigurationError(
            f"{origin.key('isolation_level')}: {level!r} is not an isolation level of {dialect} "
            f"(expected one of {', '.join(allowed)})"
        )
    poolclass = options.get("poolclass")
    if poolclass is not None and not issubclass(poolclass, QueuePool):
        for option in QUEUE_POOL_OPTIONS:
            if option in options:
                raise ConfigurationError(
                    f"{origin.key(option)}: {poolclass.__name__} keeps no pool of connections and takes no "
                    f"{option}; remove it, or use a QueuePool"
                )
