"""The polydatum core: framework-independent (no Pyramid import anywhere below this package)."""

from .context import DataAccessContext
from .dal import BoundDAL, BoundService, DataAccessLayer
from .errors import (
    AlreadyExistsException,
    ContextStateError,
    ErrorsOnClose,
    InvalidMiddleware,
    InvalidName,
    InvalidResource,
    MiddlewareException,
    MiddlewareSetupException,
    NoActiveContext,
    NotFound,
    PolydatumException,
    ResourceException,
    ResourceSetupException,
    ServiceError,
    ServiceNotInitialized,
)
from .manager import DataManager
from .meta import Meta
from .record import ContextRecord, ErrorInfo, StepRecord
from .resources import Resource, ValueResource
from .services import Service

Context = DataAccessContext

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
