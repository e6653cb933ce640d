"""pyramid_polydatum: a clean, testable data layer for Pyramid applications, scripts and task workers.

The core names (``DataManager``, ``Service``, ...) are importable from here and never import Pyramid;
``config.include('pyramid_polydatum')`` wires them into a Pyramid application.
"""

from .core import (
    AlreadyExistsException,
    BoundDAL,
    BoundService,
    Context,
    ContextRecord,
    ContextStateError,
    DataAccessContext,
    DataAccessLayer,
    DataManager,
    ErrorInfo,
    ErrorsOnClose,
    InvalidMiddleware,
    InvalidName,
    InvalidResource,
    Meta,
    MiddlewareException,
    MiddlewareSetupException,
    NoActiveContext,
    NotFound,
    PolydatumException,
    Resource,
    ResourceException,
    ResourceSetupException,
    Service,
    ServiceError,
    ServiceNotInitialized,
    StepRecord,
    ValueResource,
)


def includeme(config):  # type: ignore[no-untyped-def]
    """``config.include('pyramid_polydatum')``; the Pyramid glue is imported only here, keeping the core free of it."""
    from .glue import includeme as include_glue

    include_glue(config)


__all__ = [
    "AlreadyExistsException",
    "BoundDAL",
    "BoundService",
    "Context",
    "ContextRecord",
    "ContextStateError",
    "DataAccessContext",
    "DataAccessLayer",
    "DataManager",
    "ErrorInfo",
    "ErrorsOnClose",
    "InvalidMiddleware",
    "InvalidName",
    "InvalidResource",
    "Meta",
    "MiddlewareException",
    "MiddlewareSetupException",
    "NoActiveContext",
    "NotFound",
    "PolydatumException",
    "Resource",
    "ResourceException",
    "ResourceSetupException",
    "Service",
    "ServiceError",
    "ServiceNotInitialized",
    "StepRecord",
    "ValueResource",
]
