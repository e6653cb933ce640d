"""pyramid_polydatum: a clean, testable data layer for Pyramid applications, scripts and task workers.

The core names (``DataManager``, ``Service``, ...) are importable from here and never import Pyramid;
``config.include('pyramid_polydatum')`` wires them into a Pyramid application.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def engine_from_settings(
    settings: Mapping[str, Any], name: str = "writer", prefix: str = "polydatum.engine."
) -> Engine:
    """The engine ``name`` built from ``settings`` exactly as the include builds it (alembic's ``env.py``).

    See ``pyramid_polydatum.migrations``; imported on first use so that importing the core imports no engine code.
    """
    from .migrations import engine_from_settings as build

    return build(settings, name, prefix)


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
    "engine_from_settings",
]
