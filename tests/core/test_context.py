import pytest

from pyramid_polydatum import BoundDAL, ContextStateError, DataAccessContext, DataManager, InvalidName, Meta


def make_manager(events):
    def db(ctx):
        events.append("db setup")
        yield {"name": "db"}
        events.append("db teardown")

    return DataManager().register_resources(db=db)


def test_context_exposes_manager_dal_and_meta():
    dm = DataManager()
    ctx = dm.context(meta={"user": "ann"})
    assert isinstance(ctx, DataAccessContext)
    assert ctx.data_manager is dm
    assert isinstance(ctx.dal, BoundDAL) and ctx.dal.context is ctx and ctx.dal is ctx.dal
    assert isinstance(ctx.meta, Meta) and ctx.meta.user == "ann"


def test_context_accepts_a_meta_instance_as_is():
    meta = Meta(user="ann")
    assert DataManager().context(meta=meta).meta is meta


def test_context_is_single_use():
    dm = DataManager()
    ctx = dm.context()
    with ctx:
        pass
    with pytest.raises(ContextStateError, match="only once"):
        with ctx:
            pass
    assert dm.get_active_context() is None


def test_entering_while_active_is_refused():
    dm = DataManager()
    with dm.context() as ctx:
        with pytest.raises(ContextStateError):
            ctx.__enter__()
        assert dm.get_active_context() is ctx


def test_resources_are_lazy_and_cached():
    events = []
    dm = make_manager(events)
    with dm.context() as ctx:
        assert events == []
        assert "db" not in ctx
        first = ctx.db
        assert "db" in ctx
        assert ctx.db is first
        assert events == ["db setup"]
    assert events == ["db setup", "db teardown"]


def test_an_untouched_resource_is_never_set_up():
    events = []
    dm = make_manager(events)
    with dm.context():
        pass
    assert events == []


def test_resource_access_before_enter_and_after_exit_is_a_clear_error():
    dm = make_manager([])
    ctx = dm.context()
    with pytest.raises(ContextStateError, match=r"'db'.*created"):
        ctx.db
    with ctx:
        ctx.db
    with pytest.raises(ContextStateError, match=r"'db'.*exited"):
        ctx.db
    assert "db" not in ctx


def test_unknown_names_raise_attribute_error():
    dm = make_manager([])
    with dm.context() as ctx:
        with pytest.raises(AttributeError, match="nope"):
            ctx.nope
        assert getattr(ctx, "nope", "default") == "default"


def test_resources_cannot_be_assigned_on_the_context():
    dm = make_manager([])
    with dm.context() as ctx:
        with pytest.raises(AttributeError, match="'db' is a resource"):
            ctx.db = "something else"


@pytest.mark.parametrize("name", ["meta", "dal", "data_manager", "record", "close", "state", "error"])
def test_a_resource_name_that_shadows_a_context_attribute_is_refused(name):
    dm = DataManager()

    def factory(ctx):
        yield 1

    with pytest.raises(InvalidName, match=name):
        dm.register_resources(**{name: factory})
    assert dm.get_resource(name) is None


def test_nested_contexts_have_their_own_resources():
    created = []

    def counter(ctx):
        created.append(ctx)
        yield len(created)

    dm = DataManager().register_resources(counter=counter)
    with dm.context() as outer:
        assert outer.counter == 1
        with dm.context() as inner:
            assert dm.get_active_context() is inner
            assert inner.counter == 2
            assert dm.active_contexts == (outer, inner)
        assert dm.get_active_context() is outer
        assert outer.counter == 1
    assert dm.get_active_context() is None


def test_leaving_contexts_out_of_order_is_refused_and_leaves_the_stack_intact():
    dm = DataManager()
    outer = dm.context().__enter__()
    inner = dm.context().__enter__()
    with pytest.raises(ContextStateError, match="reverse order"):
        outer.__exit__(None, None, None)
    assert dm.active_contexts == (outer, inner)
    inner.__exit__(None, None, None)
    outer.__exit__(None, None, None)
    assert dm.active_contexts == ()


def test_close_ends_a_context_without_raising_the_given_error():
    seen = []

    def db(ctx):
        try:
            yield "db"
        except Exception as error:
            seen.append(error)
            raise

    dm = DataManager().register_resources(db=db)
    ctx = dm.context().__enter__()
    ctx.db
    error = ValueError("view failed")
    assert ctx.close(error) is error
    assert ctx.error is error
    assert ctx.state == "exited"
    assert seen == [error]
    assert dm.get_active_context() is None


def test_a_resource_may_depend_on_another_and_is_torn_down_first():
    events = []

    def engine(ctx):
        events.append("engine up")
        yield "engine"
        events.append("engine down")

    def session(ctx):
        events.append("session up")
        yield f"session on {ctx.engine}"
        events.append("session down")

    dm = DataManager().register_resources(engine=engine, session=session)
    with dm.context() as ctx:
        assert ctx.session == "session on engine"
    assert events == ["session up", "engine up", "session down", "engine down"]


def test_a_resource_that_needs_itself_is_a_clear_error():
    def loop(ctx):
        yield ctx.loop

    dm = DataManager().register_resources(loop=loop)
    with pytest.raises(ContextStateError, match="needs itself"):
        with dm.context() as ctx:
            ctx.loop
