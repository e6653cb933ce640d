"""What happened inside one context, kept for tooling (the debug toolbar panel, logs, tests).

The context appends one entry per resource and per middleware and fills it in as the step it describes moves on;
readers get frozen snapshots (``StepRecord``), made only when they ask. Nothing here holds the resource values
themselves, so keeping a record after the context ended keeps no session or connection alive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["resource", "middleware"]

#: A resource value with a method of this name is asked, once torn down, for a snapshot of plain data about what it
#: did (the sessions report their engines' statement counts and transaction outcomes). Only the snapshot is kept.
RECORD_HOOK = "__polydatum_record__"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The type and message of an exception, without its traceback or frames."""

    type_name: str
    message: str

    @classmethod
    def of(cls, error: BaseException | None) -> ErrorInfo | None:
        if error is None:
            return None
        try:
            message = str(error)
        except Exception:  # noqa: BLE001 - a broken __str__ must not break the record
            message = "<message unavailable>"
        return cls(type(error).__name__, message)

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One resource or middleware of a context: timings in seconds and how it went (a frozen snapshot).

    ``received_error`` is the context's error that was thrown into the step at teardown (None on success).
    ``details`` is what a resource value chose to report about itself once torn down (see ``RECORD_HOOK``).
    """

    kind: Kind
    name: str
    setup_seconds: float | None = None
    teardown_seconds: float | None = None
    setup_error: ErrorInfo | None = None
    teardown_error: ErrorInfo | None = None
    received_error: ErrorInfo | None = None
    details: Mapping[str, Any] | None = None

    @property
    def outcome(self) -> str:
        """``"ok"``, ``"active"`` (not torn down yet), or the failing phase and error."""
        if self.setup_error is not None:
            return f"setup failed: {self.setup_error}"
        if self.teardown_error is not None:
            return f"teardown failed: {self.teardown_error}"
        if self.teardown_seconds is None:
            return "active"
        return "ok"


_STEP_FIELDS = ("kind", "name", "setup_seconds", "teardown_seconds", "setup_error", "teardown_error",
                "received_error", "details")


@dataclass(slots=True)
class Step:
    """The context's own, mutable entry for one step; readers get ``StepRecord`` snapshots of it."""

    kind: Kind
    name: str
    setup_seconds: float | None = None
    teardown_seconds: float | None = None
    setup_error: ErrorInfo | None = None
    teardown_error: ErrorInfo | None = None
    received_error: ErrorInfo | None = None
    details: Mapping[str, Any] | None = None

    def snapshot(self) -> StepRecord:
        return StepRecord(*(getattr(self, name) for name in _STEP_FIELDS))


class ContextRecord:
    """The public, read-only story of one context, in order.

    Only the owning context writes to it (through the underscored methods); readers get tuples of frozen entries.
    """

    __slots__ = ("_error", "_state", "_steps")

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._state = "created"
        self._error: ErrorInfo | None = None

    @property
    def state(self) -> str:
        """``created``, ``setup`` (middleware starting), ``active``, ``closing`` (middleware ending), ``releasing``
        (resources ending) or ``exited``."""
        return self._state

    @property
    def error(self) -> ErrorInfo | None:
        """The error the context ended with, after middleware had their say; None on success."""
        return self._error

    @property
    def resources(self) -> tuple[StepRecord, ...]:
        """Resources in creation order (including those whose setup failed)."""
        return tuple(s.snapshot() for s in self._steps if s.kind == "resource")

    @property
    def middleware(self) -> tuple[StepRecord, ...]:
        """Context middleware in setup order."""
        return tuple(s.snapshot() for s in self._steps if s.kind == "middleware")

    def __repr__(self) -> str:
        return f"<ContextRecord {self._state} resources={len(self.resources)} middleware={len(self.middleware)}>"

    def _add(self, step: Step) -> Step:
        self._steps.append(step)
        return step
