"""What a context reports about its engines: statements, SQL time and each transaction's outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import EngineRegistry, install_sessions
from pyramid_polydatum.sessions.usage import USAGE_KEY
from tests.sessions.models import AuditEntry, Base, Note


@pytest.fixture
def made(database, registries):
    registry = EngineRegistry()
    registries.append(registry)
    registry.add("writer", database.writer_url)
    registry.add("reader", database.reader_url)
    registry.add("logger", database.writer_url)
    Base.metadata.create_all(registry.writer.engine)
    yield registry, install_sessions(DataManager(), registry)
    Base.metadata.drop_all(registry.writer.engine)


def engines_of(ctx):
    (step,) = [s for s in ctx.record.resources if s.name == "db"]
    return {usage.name: usage for usage in step.details["engines"]}


def test_statements_and_outcomes_are_recorded_per_engine(made):
    registry, dm = made
    registry.enable_statistics()
    with dm.context() as ctx:
        ctx.db.reader.execute(select(Note)).all()
        ctx.db.writer.add(Note(id=1, text="x"))
        ctx.db.writer.flush()
        ctx.db.writer.execute(text("SELECT 1"))
        ctx.db.logger.add(AuditEntry(message="m"))
    usage = engines_of(ctx)
    assert list(usage) == ["reader", "writer", "logger"]
    assert usage["reader"].statements >= 1 and usage["reader"].outcome == "rolled back"
    assert usage["writer"].statements >= 2 and usage["writer"].outcome == "committed"
    assert usage["logger"].statements >= 1 and usage["logger"].outcome == "committed"
    assert usage["writer"].sql_seconds > 0
    assert usage["reader"].role == "read-only"


def test_a_failed_context_reports_the_aborted_transaction(made):
    registry, dm = made
    registry.enable_statistics()
    with pytest.raises(RuntimeError):
        with dm.context() as ctx:
            ctx.db.writer.add(Note(id=1, text="x"))
            ctx.db.writer.flush()
            raise RuntimeError("boom")
    assert engines_of(ctx)["writer"].outcome == "aborted"


def test_without_statistics_only_outcomes_are_kept_and_nothing_is_counted(made):
    _, dm = made
    with dm.context() as ctx:
        ctx.db.writer.add(Note(id=1, text="x"))
    usage = engines_of(ctx)["writer"]
    assert usage.statements is None and usage.sql_seconds is None and usage.outcome == "committed"


def test_counters_are_unbound_from_pooled_connections(made):
    registry, dm = made
    registry.enable_statistics()
    with dm.context() as ctx:
        ctx.db.writer.execute(text("SELECT 1"))
    with registry.writer.engine.connect() as conn:
        assert USAGE_KEY not in conn.info
    # a later context counts from zero on the same pooled connection
    with dm.context() as ctx:
        ctx.db.writer.execute(text("SELECT 1"))
    assert engines_of(ctx)["writer"].statements == 1
