"""One put/get/delete interface over memory, Redis and SQL, with write-through caching that never lies.

See the README's "Stores" section for the guarantees and the consistency model. Importing this package (or any
module of it) installs nothing: session listeners are installed when a store or invalidator is created.
"""

from .base import KeyValueStore, Read, Store
from .chain import DEFAULT_STALE_AFTER, ChainedStore
from .context import ContextLayer, ContextStore, context_store_resource
from .db import ContextDatabase
from .expiry import Expiry, Lifetime, deadline
from .invalidation import CommitInvalidator
from .keys import KeySpec, StoreError, UnknownKeyError
from .memory import MemoryStore
from .redis import RedisStore
from .serialize import JsonSerializer, PickleSerializer, SerializationError
from .sqla import MultipleRowsError, SQLAlchemyStore

__all__ = [
    "DEFAULT_STALE_AFTER",
    "ChainedStore",
    "CommitInvalidator",
    "ContextDatabase",
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
    "Read",
    "RedisStore",
    "SQLAlchemyStore",
    "SerializationError",
    "Store",
    "StoreError",
    "UnknownKeyError",
    "context_store_resource",
    "deadline",
]
