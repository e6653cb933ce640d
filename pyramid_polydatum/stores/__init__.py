"""One put/get/delete interface over memory, Redis and SQL, with write-through caching that never lies.

See ``README_SECTION.md`` (merged into the README) for the guarantees.
"""

from .base import KeyValueStore, Store
from .chain import ChainedStore
from .context import ContextLayer, ContextStore, context_store_resource
from .expiry import Expiry, Lifetime, deadline
from .invalidation import CommitInvalidator
from .keys import KeySpec, StoreError, UnknownKeyError
from .memory import MemoryStore
from .redis import RedisStore
from .serialize import JsonSerializer, PickleSerializer, SerializationError
from .sqla import MultipleRowsError, SQLAlchemyStore

__all__ = [
    "ChainedStore",
    "CommitInvalidator",
    "ContextLayer",
    "ContextStore",
    "Expiry",
    "JsonSerializer",
    "KeySpec",
    "KeyValueStore",
    "Lifetime",
    "MemoryStore",
    "MultipleRowsError",
    "PickleSerializer",
    "RedisStore",
    "SQLAlchemyStore",
    "SerializationError",
    "Store",
    "StoreError",
    "UnknownKeyError",
    "context_store_resource",
    "deadline",
]
