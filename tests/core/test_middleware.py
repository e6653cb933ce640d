import pytest

from pyramid_polydatum import (
    AlreadyExistsException,
    DataManager,
    InvalidMiddleware,
    MiddlewareSetupException,
)


def recorder(name, events):
    def middleware(ctx):
        events.append(f"{name} setup")
        try:
            yield
        except Exception as error:
            events.append(f"{name} saw {type(error).__name__}")
            raise
        else:
            events.append(f"{name} teardown")

    middleware.__qualname__ = name
    return middleware


def resource_recorder(events):
    def db(ctx):
        try:
            yield "db"
        except Exception as error:
            events.append(f"db rollback {type(error).__name__}")
            raise
        else:
            events.append("db commit")

    return db


def test_setup_in_order_teardown_in_reverse_before_resources():
    events = []
    dm = DataManager().register_resources(db=resource_recorder(events))
    dm.register_context_middleware(recorder("first", events), recorder("second", events))
    with dm.context() as ctx:
        events.append("body")
        ctx.db
    assert events == ["first setup", "second setup", "body", "second teardown", "first teardown", "db commit"]


def test_resources_are_usable_during_middleware_setup_and_teardown():
    events = []

    def uses_db(ctx):
        events.append(f"setup with {ctx.db}")
        yield
        events.append(f"teardown with {ctx.db}")

    dm = DataManager().register_resources(db=resource_recorder(events)).register_context_middleware(uses_db)
    with dm.context():
        pass
    assert events == ["setup with db", "teardown with db", "db commit"]


def test_an_error_is_thrown_into_each_middleware_and_propagates():
    events = []
    dm = DataManager().register_resources(db=resource_recorder(events))
    dm.register_context_middleware(recorder("first", events), recorder("second", events))
    with pytest.raises(ZeroDivisionError):
        with dm.context() as ctx:
            ctx.db
            1 / 0
    assert events == ["first setup", "second setup", "second saw ZeroDivisionError",
                      "first saw ZeroDivisionError", "db rollback ZeroDivisionError"]
    assert ctx.record.error.type_name == "ZeroDivisionError"


def test_a_middleware_that_catches_the_error_cannot_make_it_vanish():
    """polydatum's README transaction middleware pattern: catching and returning still raises."""
    events = []

    def transaction_middleware(ctx):
        try:
            yield
        except Exception:
            events.append("rolled back")  # and forgot to re-raise

    dm = DataManager().register_resources(db=resource_recorder(events))
    dm.register_context_middleware(transaction_middleware)
    with pytest.raises(ValueError, match="lost write"):
        with dm.context() as ctx:
            ctx.db
            raise ValueError("lost write")
    assert events == ["rolled back", "db rollback ValueError"]


def test_a_middleware_may_replace_the_error_and_resources_see_the_final_one():
    events = []

    class DomainError(Exception):
        pass

    def translate(ctx):
        try:
            yield
        except KeyError as error:
            raise DomainError("not found") from error

    outer = recorder("outer", events)
    dm = DataManager().register_resources(db=resource_recorder(events))
    dm.register_context_middleware(outer, translate)
    with pytest.raises(DomainError) as info:
        with dm.context() as ctx:
            ctx.db
            raise KeyError("k")
    assert isinstance(info.value.__cause__, KeyError)
    assert events == ["outer setup", "outer saw DomainError", "db rollback DomainError"]
    translate_record = ctx.record.middleware[1]
    assert translate_record.received_error.type_name == "KeyError"
    assert translate_record.teardown_error.type_name == "DomainError"


def test_a_middleware_error_on_success_fails_the_context():
    events = []

    def veto(ctx):
        yield
        raise PermissionError("vetoed")

    dm = DataManager().register_resources(db=resource_recorder(events)).register_context_middleware(veto)
    with pytest.raises(PermissionError):
        with dm.context() as ctx:
            ctx.db
    assert events == ["db rollback PermissionError"]


def test_failed_setup_unwinds_those_already_set_up_and_skips_the_body():
    events = []

    def broken(ctx):
        events.append("broken setup")
        raise RuntimeError("cannot start")
        yield

    dm = DataManager().register_context_middleware(recorder("first", events), broken, recorder("never", events))
    body_ran = False
    with pytest.raises(RuntimeError, match="cannot start"):
        with dm.context():
            body_ran = True
    assert not body_ran
    assert events == ["first setup", "broken setup", "first saw RuntimeError"]
    assert dm.get_active_context() is None


def test_a_middleware_that_does_not_yield_raises_middleware_setup_exception():
    events = []

    def lazy(ctx):
        return
        yield

    dm = DataManager().register_context_middleware(recorder("first", events), lazy)
    with pytest.raises(MiddlewareSetupException, match="did not yield"):
        with dm.context():
            pass
    assert events == ["first setup", "first saw MiddlewareSetupException"]


def test_a_middleware_that_yields_twice_raises_runtime_error():
    def twice(ctx):
        yield
        yield

    dm = DataManager().register_context_middleware(twice)
    with pytest.raises(RuntimeError, match="more than once"):
        with dm.context():
            pass


@pytest.mark.parametrize("bad", [None, 42, lambda ctx: None])
def test_non_generator_middleware_is_refused(bad):
    with pytest.raises(InvalidMiddleware):
        DataManager().register_context_middleware(bad)


def test_registering_the_same_middleware_twice_is_refused():
    def mw(ctx):
        yield

    dm = DataManager().register_context_middleware(mw)
    with pytest.raises(AlreadyExistsException):
        dm.register_context_middleware(mw)
    with pytest.raises(AlreadyExistsException):
        DataManager().register_context_middleware(mw, mw)
