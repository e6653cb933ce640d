"""Exceptions raised by the polydatum core.

The names match polydatum 0.9.1 so that code catching them keeps working after a switch of imports. The extra
classes also derive from the builtin a caller would naturally catch (``RuntimeError``, ``TypeError``,
``AttributeError``), so generic handlers still see them.
"""

from __future__ import annotations


class PolydatumException(Exception):
    """Base class of every error the core raises on purpose."""


class ServiceError(PolydatumException):
    """An error of a service method; ``code`` is an HTTP-like status an integration may use."""

    code = 500


class NotFound(ServiceError):
    """An object a method depends on does not exist (getters return None instead)."""

    code = 404


class ErrorsOnClose(PolydatumException):
    """Several errors happened while closing (kept for polydatum compatibility)."""

    def __init__(self, message: str, exceptions: list[BaseException]) -> None:
        super().__init__(message)
        self.message = message
        self.exceptions = exceptions

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self.message}: {self.exceptions}>"


class AlreadyExistsException(PolydatumException):
    """A service, resource or middleware name is already registered."""


class MiddlewareException(PolydatumException):
    """Base class of middleware errors."""


class MiddlewareSetupException(MiddlewareException):
    """A context middleware ended before its first ``yield``."""


class ResourceException(PolydatumException):
    """Base class of resource errors."""


class ResourceSetupException(ResourceException):
    """A resource factory ended before its first ``yield``."""


class InvalidMiddleware(MiddlewareException, TypeError):
    """Something registered as context middleware is not a generator callable."""


class InvalidResource(ResourceException, TypeError):
    """A resource factory is not a generator callable or a ``Resource``."""


class InvalidName(PolydatumException, ValueError):
    """A service or resource name is not an identifier, is private, or would shadow an attribute."""


class ContextStateError(PolydatumException, RuntimeError):
    """A context was used in a state that does not allow it.

    Entering a context twice, touching a resource before the context is entered or after it ended, or leaving
    contexts in an order other than the reverse of entering them.
    """


class NoActiveContext(ContextStateError):
    """Something needed the active context of a DataManager and there was none."""


class ServiceNotInitialized(PolydatumException, RuntimeError):
    """A ``Service`` subclass did not call ``super().__init__()``, or was never registered."""
