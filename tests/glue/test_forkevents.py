"""The include resets the engines of the app when pyramid_forksafe announces a fork."""

from pyramid.config import Configurator
from pyramid_forksafe.events import ApplicationPostFork
from sqlalchemy import text

from pyramid_polydatum.glue import get_engines


def make_registry(settings):
    config = Configurator(settings=settings)
    config.include("pyramid_polydatum")
    config.commit()
    return config.registry


def test_application_post_fork_drops_pooled_connections_without_closing_them(sqlite_database, registries):
    registry = make_registry({"polydatum.engine.writer.url": sqlite_database.writer_url})
    engines = get_engines(registry)
    registries.append(engines)
    pool = engines.writer.engine.pool
    held = engines.writer.engine.connect()
    held.execute(text("SELECT 1"))
    with engines.writer.engine.connect() as pooled:
        pooled.execute(text("SELECT 1"))
    assert pool.checkedin() == 1
    registry.notify(ApplicationPostFork(registry))
    assert engines.writer.engine.pool is not pool  # a fresh pool for this process
    assert held.execute(text("SELECT 2")).scalar_one() == 2  # the old connection was not closed
    held.close()


def test_forksafe_can_be_turned_off(sqlite_database, registries):
    registry = make_registry({"polydatum.engine.writer.url": sqlite_database.writer_url,
                              "polydatum.forksafe": "false"})
    engines = get_engines(registry)
    registries.append(engines)
    pool = engines.writer.engine.pool
    registry.notify(ApplicationPostFork(registry))
    assert engines.writer.engine.pool is pool
