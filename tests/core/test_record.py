import dataclasses

import pytest

from pyramid_polydatum import DataManager


def test_record_lists_resources_and_middleware_with_timings_and_outcomes():
    def db(ctx):
        yield "db"

    def cache(ctx):
        yield "cache"
        raise OSError("flush failed")

    def timing(ctx):
        yield

    dm = DataManager().register_resources(db=db, cache=cache, unused=db).register_context_middleware(timing)
    with dm.context() as ctx:
        ctx.cache, ctx.db
        assert ctx.record.state == "active"
        assert ctx.record.resources[0].outcome == "active"
    record = ctx.record
    assert record.state == "exited"
    assert record.error is None
    assert [r.name for r in record.resources] == ["cache", "db"]
    cache_step, db_step = record.resources
    assert db_step.outcome == "ok"
    assert cache_step.outcome == "teardown failed: OSError: flush failed"
    for step in record.resources + record.middleware:
        assert step.setup_seconds >= 0 and step.teardown_seconds >= 0
    (mw,) = record.middleware
    assert mw.name.endswith("timing") and mw.outcome == "ok" and mw.received_error is None


def test_record_of_a_failed_context_shows_the_error_that_reached_each_step():
    def db(ctx):
        yield "db"

    def broken(ctx):
        raise ConnectionError("no route")
        yield

    def mw(ctx):
        yield

    dm = DataManager().register_resources(db=db, broken=broken).register_context_middleware(mw)
    with pytest.raises(ValueError):
        with dm.context() as ctx:
            ctx.db
            with pytest.raises(ConnectionError):
                ctx.broken
            raise ValueError("bad input")
    record = ctx.record
    assert str(record.error) == "ValueError: bad input"
    db_step, broken_step = record.resources
    assert broken_step.outcome == "setup failed: ConnectionError: no route"
    assert db_step.received_error.type_name == "ValueError"
    assert record.middleware[0].received_error.message == "bad input"


def test_record_entries_are_read_only_and_hold_no_resource():
    sentinel = object()

    def db(ctx):
        yield sentinel

    dm = DataManager().register_resources(db=db)
    with dm.context() as ctx:
        ctx.db
    step = ctx.record.resources[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.name = "other"
    with pytest.raises(AttributeError):
        ctx.record.state = "active"
    assert sentinel not in dataclasses.astuple(step)
    assert isinstance(ctx.record.resources, tuple)


def test_a_resource_may_report_plain_details_kept_after_the_context_ended():
    class Connection:
        def __init__(self):
            self.queries = 0

        def __polydatum_record__(self):
            return {"queries": self.queries}

    def db(ctx):
        connection = Connection()
        yield connection
        connection.queries += 1  # teardown work is counted too: details are taken after it

    class Broken:
        def __polydatum_record__(self):
            raise RuntimeError("cannot report")

    def broken(ctx):
        yield Broken()

    dm = DataManager().register_resources(db=db, broken=broken)
    with dm.context() as ctx:
        ctx.db.queries += 2
        ctx.broken
    db_step, broken_step = ctx.record.resources
    assert dict(db_step.details) == {"queries": 3}
    assert broken_step.details is None and broken_step.outcome == "ok"
    with pytest.raises(TypeError):
        db_step.details["queries"] = 0
