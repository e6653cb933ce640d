"""What the stores need of ``ctx.db``: a typed protocol instead of attribute guesses.

``pyramid_polydatum.sessions.ContextSessions`` satisfies it; so can any resource that gives a writer session,
a read-your-writes session, the writer's engine name and whether a session was opened (``name in db``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session


class EngineName(Protocol):
    @property
    def name(self) -> str: ...


class EngineNames(Protocol):
    @property
    def writer(self) -> EngineName:
        """The writer's engine entry (its name is what ``in`` checks)."""
        ...


class ContextDatabase(Protocol):
    """The sessions of one context, as the SQL store uses them."""

    @property
    def writer(self) -> Session:
        """The session that writes (opened on first use)."""
        ...

    @property
    def any(self) -> Session:
        """The writer's session if this context already opened it, else the reader's (read-your-writes)."""
        ...

    @property
    def registry(self) -> EngineNames: ...

    def __contains__(self, name: object) -> bool:
        """True when this context opened the session of engine ``name``."""
        ...


if TYPE_CHECKING:  # checked by mypy: the sessions the include installs are what the stores expect
    from ..sessions.container import ContextSessions

    def _satisfies(sessions: ContextSessions) -> ContextDatabase:
        return sessions
