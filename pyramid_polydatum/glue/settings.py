"""The one parse table of the include: every ``polydatum.*`` setting, its converter and its default."""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..sessions.errors import ConfigurationError
from ..sessions.options import as_bool, convert
from ..sessions.roles import suggest

PREFIX = "polydatum."
ENGINE_PREFIX = "polydatum.engine."


def as_identifier_or_off(value: Any) -> str | None:
    text = str(value).strip()
    if text.lower() in ("off", "false", "no", "0", "none", ""):
        return None
    return as_identifier(text)


def as_identifier(value: Any) -> str:
    text = str(value).strip()
    if not text.isidentifier() or keyword.iskeyword(text):
        raise ValueError(f"expected a Python identifier (not a keyword), got {value!r}")
    return text


def as_dotted_name(value: Any) -> Any:
    """A dotted name, resolved later by the Configurator (relative to the including package), or an object."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class Setting:
    key: str
    converter: Callable[[Any], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("polydatum.data_manager", as_dotted_name, None,
            "dotted name of an existing DataManager to use; by default a new one is created"),
    Setting("polydatum.sessions", as_identifier_or_off, "db",
            "name of the per-context sessions resource (ctx.db), or 'off' for none"),
    Setting("polydatum.transactions", as_bool, True,
            "include pyramid_tm: the writer commits in its tween, before the response leaves"),
    Setting("polydatum.request_method", as_identifier, "dal",
            "name of the request attribute that gives the request's DAL"),
    Setting("polydatum.request_session", as_identifier_or_off, None,
            "name of a request attribute giving the request context's writer session (request.dbsession), or off"),
    Setting("polydatum.meta_factory", as_dotted_name, None,
            "dotted name of a callable(request) returning a mapping added to each request context's meta"),
    Setting("polydatum.forksafe", as_bool, True,
            "reset engine pools in forked workers (pyramid_forksafe events, os.register_at_fork, uWSGI postfork)"),
)

_BY_KEY = {setting.key: setting for setting in SETTINGS}


def _nearest(key: str) -> str:
    """`` (did you mean ...?)``: the nearest known key, or the engine key for a misspelt ``engine`` segment."""
    _, _, rest = key.partition(PREFIX)
    head, _, tail = rest.partition(".")
    if tail and difflib.get_close_matches(head, ["engine"], n=1, cutoff=0.6):
        return f" (did you mean {ENGINE_PREFIX}{tail}?)"
    return suggest(key, _BY_KEY)


def resolve_dotted(config: Any, key: str, value: Any) -> Any:
    """``config.maybe_dotted(value)``, an import failure named by its setting."""
    try:
        return config.maybe_dotted(value)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigurationError(f"setting {key}: cannot import {value!r} ({error})") from None


def parse_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Converted values of every ``polydatum.*`` setting, keyed by the part after the prefix.

    ``polydatum.engine.*`` keys are left to the engine registry's own table; any other unknown ``polydatum.*`` key
    is an error naming it, so a typo never silently falls back to a default.
    """
    values = {setting.key[len(PREFIX):]: setting.default for setting in SETTINGS}
    for key, value in settings.items():
        if not key.startswith(PREFIX) or key.startswith(ENGINE_PREFIX):
            continue
        setting = _BY_KEY.get(key)
        if setting is None:
            known = ", ".join(sorted([*_BY_KEY, ENGINE_PREFIX + "<name>.<option>"]))
            raise ConfigurationError(f"setting {key}: unknown setting{_nearest(key)} (known: {known})")
        values[key[len(PREFIX):]] = convert(key, setting.converter, value)
    return values
