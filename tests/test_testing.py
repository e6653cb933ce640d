"""The rollback helper for users' own tests: the app commits, the database keeps nothing."""

from sqlalchemy import func, select

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import EngineRegistry, install_sessions
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
