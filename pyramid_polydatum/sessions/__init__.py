"""Named SQLAlchemy engines and per-context sessions, with transactions and fork safety."""

from .container import ContextSessions, install_sessions, sessions_resource
from .errors import (
    ConfigurationError,
    ForkedConnectionError,
    JoinedSessionCommitError,
    ReadOnlySessionError,
    TransactionNotActive,
    UnknownEngine,
)
from .registry import EngineEntry, EngineRegistry, masked_url

__all__ = [
    "ConfigurationError",
    "ContextSessions",
    "EngineEntry",
    "EngineRegistry",
    "ForkedConnectionError",
    "JoinedSessionCommitError",
    "ReadOnlySessionError",
    "TransactionNotActive",
    "UnknownEngine",
    "install_sessions",
    "masked_url",
    "sessions_resource",
]
