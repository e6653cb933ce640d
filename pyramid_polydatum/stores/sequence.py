"""The process-wide eviction sequence: which classes were evicted after a given moment of this process.

Every eviction a ``CommitInvalidator`` makes takes the next number of one counter and records it for its
classes. A database read remembers the number current when its data was at the latest fresh (the start of the
session's transaction, see ``SQLAlchemyStore``); a chain backfills shared caches only if no eviction of a related
class was recorded since. That is what stops a unit of work from writing back its identity-map copy of a row
that another unit changed (and evicted) after it was loaded.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_counter = 0
_last: dict[type, int] = {}


def current() -> int:
    """The number of the latest eviction in this process."""
    return _counter


def record(classes: list[type]) -> int:
    """Record an eviction of ``classes`` (before the caches are evicted, after the database committed)."""
    global _counter
    with _lock:
        _counter += 1
        for cls in classes:
            _last[cls] = _counter
        return _counter


def evicted_since(cls: type, number: int) -> bool:
    """True if ``cls``, a base or a subclass of it was evicted after eviction ``number``."""
    with _lock:
        return any(n > number and (issubclass(c, cls) or issubclass(cls, c)) for c, n in _last.items())
