"""Lifetimes: seconds, ``timedelta`` or an absolute aware ``datetime``, all turned into one absolute deadline.

An absolute epoch deadline is stored with each entry, so an object expires at the same moment under every key it
is stored under, and the clock can be injected in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

Lifetime = int | float | timedelta | datetime | None
Clock = Callable[[], float]


def deadline(lifetime: Lifetime, now: float) -> float | None:
    """The epoch second ``lifetime`` ends at (None: never); an invalid lifetime raises ``ValueError``.

    A positive number of seconds or ``timedelta`` counts from ``now``; a ``datetime`` must be timezone-aware
    (a naive one is ambiguous, and a cache that guesses the zone lies by hours).
    """
    if lifetime is None:
        return None
    if isinstance(lifetime, bool):
        raise ValueError(f"invalid lifetime {lifetime!r}: give seconds, a timedelta or an aware datetime")
    if isinstance(lifetime, timedelta):
        seconds = lifetime.total_seconds()
    elif isinstance(lifetime, datetime):
        if lifetime.tzinfo is None or lifetime.utcoffset() is None:
            raise ValueError(f"invalid lifetime {lifetime!r}: an absolute expiry must be timezone-aware")
        return lifetime.timestamp()
    elif isinstance(lifetime, int | float):
        seconds = float(lifetime)
    else:
        raise ValueError(f"invalid lifetime {lifetime!r}: give seconds, a timedelta or an aware datetime")
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"invalid lifetime {lifetime!r}: it must be positive and finite")
    return now + seconds


class Expiry:
    """A store's lifetime policy: a store-wide ``ttl`` and an optional per-object ``lifetime(obj)`` callback."""

    def __init__(
        self, ttl: Lifetime = None, lifetime: Callable[[Any], Lifetime] | None = None, clock: Clock | None = None
    ) -> None:
        self.clock: Clock = clock or time.time
        deadline(ttl, 0.0)  # validated now, at configuration
        self.ttl = ttl
        self.lifetime = lifetime

    def deadline_for(self, obj: Any) -> float | None:
        """The object's own lifetime when the callback gives one, else the store's ttl."""
        now = self.clock()
        if self.lifetime is not None:
            own = self.lifetime(obj)
            if own is not None:
                return deadline(own, now)
        return deadline(self.ttl, now)

    def expired(self, at: float | None) -> bool:
        return at is not None and at <= self.clock()
