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
    return float(str(value).strip()) if not isinstance(value, int | float) else float(value)


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
    text = str(value).strip().lower()
    if text in ("none", ""):
        return None
    if text in ("rollback", "commit"):
        return text
    raise ValueError(f"expected rollback, commit or none, got {value!r}")


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
    "pool_size": as_int,
    "max_overflow": as_int,
    "pool_recycle": as_int,
    "query_cache_size": as_int,
    "label_length": as_int,
    "max_identifier_length": as_int,
    "insertmanyvalues_page_size": as_int,
    "use_insertmanyvalues": as_bool,
    "pool_timeout": as_float,
    "isolation_level": as_str,
    "logging_name": as_str,
    "pool_logging_name": as_str,
    "paramstyle": as_str,
    "pool_reset_on_return": as_reset_on_return,
    "poolclass": as_dotted,
    "creator": as_dotted,
    "json_serializer": as_dotted,
    "json_deserializer": as_dotted,
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
    "join_transaction_mode": as_str,
    "class_": as_dotted,
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
    try:
        return converter(value)
    except (ValueError, TypeError, ImportError, AttributeError) as error:
        raise ConfigurationError(f"setting {key}: {error}") from None


def parse_engine_settings(settings: Mapping[str, Any], prefix: str) -> dict[str, EngineSpec]:
    """Group ``<prefix><engine name>.<option>`` settings into one converted ``EngineSpec`` per engine name.

    Keys outside ``prefix`` are ignored; an unknown option under it is a ``ConfigurationError`` naming the key.
    """
    specs: dict[str, EngineSpec] = {}
    for key in sorted(settings):
        if not key.startswith(prefix):
            continue
        name, _, option = key[len(prefix):].partition(".")
        if not name.isidentifier() or not option:
            raise ConfigurationError(f"setting {key}: expected {prefix}<engine name>.<option>")
        spec = specs.setdefault(name, EngineSpec(name))
        value = settings[key]
        if option.startswith("session."):
            session_option = option[len("session."):]
            if session_option not in SESSION_OPTIONS:
                raise ConfigurationError(
                    f"setting {key}: unknown session option {session_option!r} "
                    f"(known: {', '.join(sorted(SESSION_OPTIONS))})"
                )
            spec.session[session_option] = convert(key, SESSION_OPTIONS[session_option], value)
        elif option in ENTRY_OPTIONS:
            spec.entry[option] = convert(key, ENTRY_OPTIONS[option], value)
        elif option in ENGINE_OPTIONS:
            spec.engine[option] = convert(key, ENGINE_OPTIONS[option], value)
        else:
            known = sorted({*ENTRY_OPTIONS, *ENGINE_OPTIONS, "session.<option>"})
            raise ConfigurationError(f"setting {key}: unknown engine option {option!r} (known: {', '.join(known)})")
    for name, spec in specs.items():
        spec.url = spec.entry.pop("url", None)
        if spec.url is None:
            raise ConfigurationError(f"setting {prefix}{name}.url is missing: engine {name!r} needs a database URL")
        roles.resolve_role(  # the role errors of one engine, at once (the registry checks them again)
            name, origins.from_settings(prefix, name), default=spec.entry.get("default"),
            readonly=spec.entry.get("readonly"), transaction=spec.entry.get("transaction"),
        )
    return specs
