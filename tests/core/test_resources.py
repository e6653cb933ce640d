import functools
import logging

import pytest

from pyramid_polydatum import (
    AlreadyExistsException,
    DataManager,
    InvalidResource,
    Resource,
    ResourceSetupException,
    ValueResource,
)


class Transactional:
    """A resource that commits on success and rolls back on error, as a database session would."""

    def __init__(self):
        self.log = []

    def __call__(self, ctx):
        try:
            yield self
        except Exception as error:
            self.log.append(("rollback", type(error).__name__))
            raise
        else:
            self.log.append(("commit", None))


def test_teardown_sees_success():
    tx = Transactional()
    dm = DataManager().register_resources(tx=tx)
    with dm.context() as ctx:
        ctx.tx
    assert tx.log == [("commit", None)]


def test_teardown_sees_the_error_of_the_body_and_the_error_propagates():
    tx = Transactional()
    dm = DataManager().register_resources(tx=tx)
    with pytest.raises(KeyError):
        with dm.context() as ctx:
            ctx.tx
            raise KeyError("boom")
    assert tx.log == [("rollback", "KeyError")]


def test_teardown_runs_in_reverse_creation_order():
    order = []

    def make(name):
        def factory(ctx):
            yield name
            order.append(name)

        return factory

    dm = DataManager().register_resources(a=make("a"), b=make("b"), c=make("c"))
    with dm.context() as ctx:
        ctx.b, ctx.c, ctx.a
    assert order == ["a", "c", "b"]


def test_a_resource_subclass_and_value_resource():
    class Clock(Resource):
        def __call__(self, context):
            assert self._data_manager is context.data_manager
            yield 42

    dm = DataManager().register_resources(clock=Clock(), settings=ValueResource({"debug": True}))
    with dm.context() as ctx:
        assert ctx.clock == 42
        assert ctx.settings == {"debug": True}


def test_partial_and_callable_objects_are_accepted():
    def factory(ctx, value):
        yield value

    dm = DataManager().register_resources(p=functools.partial(factory, value="partial"), t=Transactional())
    with dm.context() as ctx:
        assert ctx.p == "partial"
        assert isinstance(ctx.t, Transactional)


def test_registering_a_taken_name_raises_and_changes_nothing():
    def one(ctx):
        yield 1

    def two(ctx):
        yield 2

    dm = DataManager().register_resources(db=one)
    with pytest.raises(AlreadyExistsException, match="'db'"):
        dm.register_resources(cache=two, db=two)
    assert dm.get_resource("cache") is None
    assert dm.get_resource("db") is one


def test_replace_resource_swaps_the_factory():
    def one(ctx):
        yield 1

    def two(ctx):
        yield 2

    dm = DataManager().register_resources(db=one)
    assert dm.replace_resource("db", two) is dm
    with dm.context() as ctx:
        assert ctx.db == 2


@pytest.mark.parametrize("factory", [42, lambda ctx: 1, "db"])
def test_a_factory_that_is_not_a_generator_callable_is_refused_at_registration(factory):
    with pytest.raises(InvalidResource, match="'db'"):
        DataManager().register_resources(db=factory)


def test_a_factory_that_does_not_yield_raises_resource_setup_exception_where_accessed():
    def empty(ctx):
        return
        yield

    dm = DataManager().register_resources(db=empty)
    with dm.context() as ctx:
        with pytest.raises(ResourceSetupException, match="did not yield"):
            ctx.db
        assert "db" not in ctx
    assert "did not yield" in ctx.record.resources[0].outcome


def test_a_setup_error_is_raised_where_the_resource_is_accessed():
    def broken(ctx):
        raise ConnectionError("database is down")
        yield

    dm = DataManager().register_resources(db=broken)
    with dm.context() as ctx:
        with pytest.raises(ConnectionError, match="database is down"):
            ctx.db
        # the body chose to carry on: the context still ends cleanly
    assert ctx.error is None


def test_teardown_errors_are_kept_and_logged_never_raised(caplog):
    torn_down = []

    def bad(ctx):
        yield "bad"
        raise OSError("cannot close")

    def good(ctx):
        yield "good"
        torn_down.append("good")

    dm = DataManager().register_resources(good=good, bad=bad)
    with caplog.at_level(logging.ERROR, logger="pyramid_polydatum"):
        with dm.context() as ctx:
            ctx.good, ctx.bad
    assert torn_down == ["good"]
    (error,) = ctx.get_resource_exit_errors()
    assert error[0] is OSError and str(error[1]) == "cannot close"
    assert "teardown of resource 'bad' failed" in caplog.text


def test_a_teardown_error_does_not_replace_the_original_error():
    def bad(ctx):
        try:
            yield "bad"
        finally:
            raise OSError("cannot close")

    dm = DataManager().register_resources(bad=bad)
    with pytest.raises(ValueError, match="original"):
        with dm.context() as ctx:
            ctx.bad
            raise ValueError("original")
    assert [e[0] for e in ctx.get_resource_exit_errors()] == [OSError]


def test_a_resource_that_yields_twice_is_an_exit_error():
    def twice(ctx):
        yield 1
        yield 2

    dm = DataManager().register_resources(twice=twice)
    with dm.context() as ctx:
        ctx.twice
    (error,) = ctx.get_resource_exit_errors()
    assert error[0] is RuntimeError and "more than once" in str(error[1])


def test_a_resource_that_swallows_the_error_does_not_stop_it():
    def swallow(ctx):
        try:
            yield 1
        except Exception:
            return  # swallowed on purpose

    dm = DataManager().register_resources(res=swallow)
    with pytest.raises(ValueError):
        with dm.context() as ctx:
            ctx.res
            raise ValueError("still raised")
    assert ctx.get_resource_exit_errors() == []
