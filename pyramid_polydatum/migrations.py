"""One engine built exactly as the Pyramid include builds it, for code that runs without the app: alembic's
``env.py``, maintenance scripts.

SQLAlchemy's ``engine_from_config(settings, "polydatum.engine.writer.")`` does not understand this package's
settings (``url = env:NAME``, JSON ``connect_args``, ``fork_guard`` and the other options of the parse table), so
``env.py`` reads them through the same table::

    from pyramid.paster import get_appsettings
    from pyramid_polydatum.migrations import engine_from_settings

    def run_migrations_online():
        settings = get_appsettings(context.config.config_file_name)
        with engine_from_settings(settings).connect() as connection:
            context.configure(connection=connection, target_metadata=Base.metadata)
            with context.begin_transaction():
                context.run_migrations()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from .sessions.errors import ConfigurationError
from .sessions.registry import EngineRegistry

ENGINE_PREFIX = "polydatum.engine."


def engine_from_settings(settings: Mapping[str, Any], name: str = "writer", prefix: str = ENGINE_PREFIX) -> Engine:
    """The engine ``name`` of ``settings``, every option converted and checked as the include does.

    The whole configuration is checked (a typo in another engine's setting fails here too, naming its key), and
    the engines are built; none connects before it is used. The other engines are dropped.
    """
    registry = EngineRegistry.from_settings(settings, prefix)
    if name not in registry:
        registry.dispose()
        raise ConfigurationError(
            f"setting {prefix}{name}.url: no engine {name!r} is configured (configured: {', '.join(registry.names)})"
        )
    for entry in registry:
        if entry.name != name:
            entry.engine.dispose()
    return registry.get(name).engine
