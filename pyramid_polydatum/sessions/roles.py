"""Engine roles, decided by explicit rules only.

The role of an engine (read-only or not, how its sessions commit, whether it is the default writer) comes from
its settings, or from one of three well-known names. Nothing is inferred from what else happens to be
configured: a registry without a writer is an error, never "the first writable engine", and an independent
engine (the logger, whose sessions commit even when the unit of work fails) is never the default writer.

A name that is close to a well-known one without being it (``wrtier``, ``reader2``) would silently get the
default role of an ordinary engine (joined and writable): such a name must declare its role.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ConfigurationError
from .origin import Origin

WRITER, READER, LOGGER = "writer", "reader", "logger"
WELL_KNOWN = (WRITER, READER, LOGGER)
TRANSACTION_MODES = ("joined", "independent", "none")

#: difflib ratio from which a name counts as a near miss of a well-known one (``wrtier``: 0.83, ``log``: 0.67).
NEAR_MISS_CUTOFF = 0.75


def near_miss(name: str) -> str | None:
    """The well-known name that ``name`` looks like a typo of, or None."""
    if name in WELL_KNOWN:
        return None
    matches = difflib.get_close_matches(name, WELL_KNOWN, n=1, cutoff=NEAR_MISS_CUTOFF)
    return matches[0] if matches else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the nearest of ``choices``, or an empty string."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]}?)" if matches else ""


@dataclass(frozen=True)
class Role:
    is_readonly: bool
    transaction: str
    wants_default: bool


def resolve_role(
    name: str, origin: Origin, *, default: bool | None, readonly: bool | None, transaction: str | None
) -> Role:
    """The role of engine ``name`` from its explicit options and the well-known names; errors name the option.

    Rules (the README lists the same): ``reader`` is read-only unless ``readonly`` says otherwise; ``logger`` is
    independent unless ``transaction`` says otherwise; every other engine joins the unit of work's transaction;
    a read-only engine never commits (``transaction = none``). The writer, the logger and any independent engine
    cannot be read-only or (for the last two) the default.
    """
    guess = near_miss(name)
    if guess is not None and readonly is None and transaction is None:
        raise ConfigurationError(
            f"{origin.key('url')}: engine name {name!r} is close to the well-known {guess!r} (did you mean "
            f"{guess}?); a separate engine with a name like this must declare its role with "
            f"{origin.key('transaction')} (joined, independent or none) or {origin.key('readonly')}"
        )
    is_readonly = (name == READER) if readonly is None else bool(readonly)
    mode = transaction or ("none" if is_readonly else "independent" if name == LOGGER else "joined")
    if mode not in TRANSACTION_MODES:
        raise ConfigurationError(
            f"{origin.key('transaction')}: expected one of {', '.join(TRANSACTION_MODES)}, got {mode!r}"
            + suggest(str(mode), TRANSACTION_MODES)
        )
    if is_readonly and name in (WRITER, LOGGER):
        raise ConfigurationError(f"{origin.key('readonly')}: the {name} cannot be read-only, it exists to write")
    if is_readonly and mode != "none":
        raise ConfigurationError(
            f"{origin.key('transaction')}: engine {name!r} is read-only but transaction={mode!r}: a read-only engine "
            "never commits, use transaction = none"
        )
    if default and is_readonly:
        raise ConfigurationError(f"{origin.key('default')}: engine {name!r} cannot be the default, it is read-only")
    if default and mode == "independent":
        raise ConfigurationError(
            f"{origin.key('default')}: engine {name!r} is independent (its sessions commit even when the unit of "
            "work fails), so it cannot be the default writer"
        )
    if default is False and name == WRITER:
        raise ConfigurationError(f"{origin.key('default')}: the engine named writer is always the default writer")
    if name == WRITER and mode == "independent":
        raise ConfigurationError(
            f"{origin.key('transaction')}: the writer is the default writer, it cannot be independent (its sessions "
            "would commit even when the unit of work fails); give an engine that commits on its own another name"
        )
    return Role(is_readonly=is_readonly, transaction=mode, wants_default=bool(default) or name == WRITER)
