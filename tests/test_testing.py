"""The rollback helper for users' own tests: the app commits, the database keeps nothing."""

import pytest
from sqlalchemy import func, select

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import EngineRegistry, ReadOnlySessionError, install_sessions
from pyramid_polydatum.testing import rolled_back
from tests.sessions.models import AuditEntry, Base, Note


def test_commits_inside_rolled_back_leave_nothing_and_the_reader_still_cannot_write(database, registries):
    registry = EngineRegistry()
    registries.append(registry)
    registry.add("writer", database.writer_url)
    registry.add("reader", database.reader_url)
    registry.add("logger", database.writer_url)
    Base.metadata.create_all(registry.writer.engine)
    dm = install_sessions(DataManager(), registry)
    try:
        with rolled_back(registry):
            with dm.context() as ctx:
                ctx.db.writer.add(Note(id=1, text="committed in the test"))
                ctx.db.logger.add(AuditEntry(message="audit in the test"))
            with dm.context() as ctx:
                assert ctx.db.writer.scalar(select(func.count()).select_from(Note)) == 1
                assert ctx.db.writer.scalar(select(func.count()).select_from(AuditEntry)) == 1
        with registry.writer.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Note)) == 0
            assert conn.scalar(select(func.count()).select_from(AuditEntry)) == 0
        with dm.context() as ctx:  # the engines are back to normal
            ctx.db.writer.add(Note(id=2, text="kept"))
        with registry.writer.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Note)) == 1
    finally:
        Base.metadata.drop_all(registry.writer.engine)


def test_in_rolled_back_a_later_request_served_by_the_reader_sees_what_an_earlier_one_wrote(database, registries):
    """The cookiecutter's per-test rollback with a reader: POST, then GET through the reader, then nothing kept."""
    from webtest import TestApp

    from pyramid_polydatum.glue import get_engines
    from tests.glue.app import make_app

    settings = {"polydatum.engine.writer.url": database.writer_url,
                "polydatum.engine.reader.url": database.reader_url,
                "polydatum.engine.logger.url": database.writer_url}
    wsgi = make_app(settings)
    engines = get_engines(wsgi.registry)
    registries.append(engines)
    Base.metadata.create_all(engines.writer.engine)
    try:
        with rolled_back(engines):
            app = TestApp(wsgi)
            app.post("/create", {"id": 1, "text": "from the test"})
            assert app.get("/notes/1").json == {"id": 1, "text": "from the test"}  # a fresh request: the reader
            with get_data_manager_of(wsgi).context() as ctx:
                ctx.db.reader.add(Note(id=2, text="the reader writes"))
                with pytest.raises(ReadOnlySessionError):
                    ctx.db.reader.flush()
                ctx.db.reader.rollback()
        with engines.writer.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Note)) == 0
    finally:
        Base.metadata.drop_all(engines.writer.engine)


def get_data_manager_of(wsgi):
    from pyramid_polydatum.glue import get_data_manager

    return get_data_manager(wsgi.registry)
