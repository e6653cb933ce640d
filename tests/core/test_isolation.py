"""Each DataManager keeps its own stack of contexts per thread and per asyncio task."""

import asyncio
import threading

import pytest

from pyramid_polydatum import DataManager


def test_no_active_context_by_default():
    assert DataManager().get_active_context() is None


def test_two_managers_never_see_each_others_contexts():
    first, second = DataManager(), DataManager()
    with first.context() as ctx:
        assert first.get_active_context() is ctx
        assert second.get_active_context() is None
        with second.context() as other:
            assert first.get_active_context() is ctx
            assert second.get_active_context() is other


def test_threads_never_see_each_others_contexts():
    dm = DataManager()
    barrier = threading.Barrier(8)
    seen = {}
    errors = []

    def work(n):
        try:
            assert dm.get_active_context() is None
            with dm.context(meta={"n": n}) as ctx:
                barrier.wait(timeout=10)  # every thread is inside its own context at once
                for _ in range(200):
                    assert dm.get_active_context() is ctx
                seen[n] = dm.require_active_context().meta.n
                barrier.wait(timeout=10)
        except Exception as error:  # reported below
            errors.append(error)

    with dm.context() as main_ctx:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert dm.get_active_context() is main_ctx
    assert errors == []
    assert seen == {n: n for n in range(8)}


def test_asyncio_tasks_never_see_each_others_contexts():
    dm = DataManager()

    async def work(n):
        with dm.context(meta={"n": n}) as ctx:
            for _ in range(5):
                await asyncio.sleep(0)
                assert dm.get_active_context() is ctx
            return dm.require_active_context().meta.n

    async def main():
        results = await asyncio.gather(*(work(n) for n in range(10)))
        assert dm.get_active_context() is None
        return results

    assert asyncio.run(main()) == list(range(10))


def test_a_context_cannot_be_exited_from_another_thread():
    from pyramid_polydatum import ContextStateError

    dm = DataManager()
    ctx = dm.context().__enter__()
    failures = []

    def exit_elsewhere():
        try:
            ctx.__exit__(None, None, None)
        except ContextStateError as error:
            failures.append(error)

    thread = threading.Thread(target=exit_elsewhere)
    thread.start()
    thread.join()
    assert len(failures) == 1
    ctx.__exit__(None, None, None)
    assert dm.get_active_context() is None


def test_require_active_context():
    from pyramid_polydatum import NoActiveContext

    dm = DataManager()
    with pytest.raises(NoActiveContext, match="active context"):
        dm.require_active_context()
    with dm.context() as ctx:
        assert dm.require_active_context() is ctx


def test_dal_context_manager_enters_and_leaves_a_context():
    dm = DataManager()
    with dm.dal(meta={"user": "ann"}) as dal:
        assert dal is dm.get_dal()
        assert dm.get_active_context().meta.user == "ann"
    assert dm.get_active_context() is None


def test_close_may_end_a_context_entered_in_another_thread_and_that_thread_forgets_it():
    dm = DataManager()
    torn_down = []

    def db(ctx):
        yield "db"
        torn_down.append(threading.current_thread().name)

    dm.register_resources(db=db)
    entered = threading.Event()
    release = threading.Event()
    seen_after = []
    holder = {}

    def worker():
        ctx = dm.context().__enter__()
        ctx.db
        holder["ctx"] = ctx
        entered.set()
        release.wait(timeout=10)
        seen_after.append(dm.get_active_context())

    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    entered.wait(timeout=10)
    assert holder["ctx"].close(None) is None  # ended here, from the main thread
    release.set()
    thread.join()
    assert torn_down == ["MainThread"]
    assert seen_after == [None]  # the worker's stack dropped the context ended elsewhere
