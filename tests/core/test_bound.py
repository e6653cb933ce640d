"""Contexts owned by something other than a thread: ``open()``, ``activated()`` and the context-bound DAL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pyramid_polydatum import BoundService, ContextStateError, DataManager, NoActiveContext, Service


class Profile(Service):
    def owner(self):
        return self._ctx.meta.owner


class Users(Service):
    def __init__(self):
        super().__init__()
        self.register_services(profile=Profile())

    def whose(self):
        # through the manager's DAL and the manager's active context, as polydatum code does
        return self._ctx.meta.owner, self._dal.users.profile.owner(), self._data_manager.get_active_context().meta.owner


def make_dm():
    return DataManager().register_services(users=Users())


def test_an_opened_context_is_no_threads_active_context():
    dm = make_dm()
    ctx = dm.context(meta={"owner": "a"}).open()
    try:
        assert dm.get_active_context() is None
        assert ctx.state == "active"
        assert ctx.dal.users.whose() == ("a", "a", "a")
        assert dm.get_active_context() is None  # the call left the stack as it was
    finally:
        assert ctx.close() is None
    assert ctx.state == "exited"


def test_activated_makes_an_opened_context_active_for_a_block_and_nests():
    dm = make_dm()
    ctx = dm.context(meta={"owner": "a"}).open()
    with dm.context(meta={"owner": "outer"}) as outer:
        with ctx.activated():
            assert dm.require_active_context() is ctx
            with ctx.activated():
                assert dm.require_active_context() is ctx
            assert dm.require_active_context() is ctx
        assert dm.require_active_context() is outer
    ctx.close()
    with pytest.raises(NoActiveContext):
        dm.require_active_context()


def test_middleware_and_resources_of_an_opened_context_see_it_as_active():
    dm = make_dm()
    seen = []

    def middleware(ctx):
        seen.append(("setup", dm.get_active_context() is ctx))
        yield
        seen.append(("teardown", dm.get_active_context() is ctx))

    def resource(ctx):
        yield "value"
        seen.append(("resource", dm.get_active_context() is ctx))

    dm.register_context_middleware(middleware).register_resources(thing=resource)
    ctx = dm.context().open()
    assert ctx.thing == "value"
    ctx.close()
    assert seen == [("setup", True), ("teardown", True), ("resource", True)]
    assert dm.get_active_context() is None


def test_the_bound_dal_runs_in_its_context_from_a_shared_thread_pool():
    """Many units of work share one pool; none may ever run in another's context."""
    dm = make_dm()
    wrong = []
    barrier = threading.Barrier(4)

    def unit(n, pool):
        ctx = dm.context(meta={"owner": n}).open()
        try:
            futures = [pool.submit(ctx.dal.users.whose) for _ in range(25)]
            for future in futures:
                if future.result() != (n, n, n):
                    wrong.append((n, future.result()))
        finally:
            ctx.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        def run(n):
            barrier.wait(timeout=10)
            unit(n, pool)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # the pool's threads keep no context behind
        assert pool.submit(dm.get_active_context).result() is None
    assert wrong == []


def test_bound_views_expose_the_service_and_the_context():
    dm = make_dm()
    with dm.context(meta={"owner": "a"}) as ctx:
        view = ctx.dal.users
        assert isinstance(view, BoundService)
        assert view is ctx.dal.users and view.profile is ctx.dal.users.profile
        assert view.service is dm.get_dal().users
        assert view._ctx is ctx and view._dal is ctx.dal
        assert ctx.dal["users.profile.owner"]() == "a"
        with pytest.raises(AttributeError, match="registered: users"):
            ctx.dal.nothing


def test_a_bound_dal_refuses_calls_once_its_context_ended():
    dm = make_dm()
    ctx = dm.context(meta={"owner": "a"}).open()
    whose = ctx.dal.users.whose
    ctx.close()
    with pytest.raises(ContextStateError, match="exited"):
        whose()


def test_an_opened_context_cannot_be_opened_or_entered_again():
    dm = make_dm()
    ctx = dm.context().open()
    with pytest.raises(ContextStateError):
        ctx.open()
    with pytest.raises(ContextStateError):
        ctx.__enter__()
    ctx.close()


def test_a_failing_middleware_setup_of_an_opened_context_leaves_no_active_context():
    dm = make_dm()

    def broken(ctx):
        raise RuntimeError("setup failed")
        yield

    dm.register_context_middleware(broken)
    with pytest.raises(RuntimeError, match="setup failed"):
        dm.context().open()
    assert dm.get_active_context() is None


def test_a_property_of_a_service_is_read_in_the_bound_context():
    class WithProperty(Service):
        @property
        def owner(self):
            return self._ctx.meta.owner

    dm = DataManager().register_services(p=WithProperty())
    ctx = dm.context(meta={"owner": "a"}).open()
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: ctx.dal.p.owner).result() == "a"
    ctx.close()
