"""Errors of the engine registry and the per-context sessions."""

from __future__ import annotations

from ..core.errors import PolydatumException


class ConfigurationError(PolydatumException, ValueError):
    """An engine setting is unknown, missing or invalid; the message names the setting."""


class UnknownEngine(PolydatumException, KeyError):
    """No engine is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class ReadOnlySessionError(PolydatumException):
    """A session of a read-only engine was asked to write (flush changes or commit)."""


class JoinedSessionCommitError(PolydatumException):
    """``session.commit()`` was called on a session whose commit belongs to the transaction manager."""


class TransactionNotActive(PolydatumException):
    """A joined session was asked to write after the unit of work's transaction ended, failed or was doomed."""


class ForkedConnectionError(PolydatumException):
    """A forked process used a session or connection that its parent opened; nothing was sent to the server."""
