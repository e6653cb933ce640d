"""The polydatum core: framework-independent (no Pyramid import anywhere below this package)."""

from .context import DataAccessContext
from .dal import DataAccessLayer
from .errors import (
    AlreadyExistsException,
    ContextStateError,
    InvalidMiddleware,
    InvalidName,
    InvalidResource,
    MiddlewareSetupException,
    NoActiveContext,
    NotFound,
    PolydatumException,
    ResourceSetupException,
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
    "Context",
    "ContextRecord",
    "ContextStateError",
    "DataAccessContext",
    "DataAccessLayer",
    "DataManager",
    "ErrorInfo",
    "InvalidMiddleware",
    "InvalidName",
    "InvalidResource",
    "Meta",
    "MiddlewareSetupException",
    "NoActiveContext",
    "NotFound",
    "PolydatumException",
    "Resource",
    "ResourceSetupException",
    "Service",
    "ServiceNotInitialized",
    "StepRecord",
    "ValueResource",
]
