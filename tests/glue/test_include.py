"""The include through WebTest on SQLite and PostgreSQL: commits that never lie, rollbacks, retries, isolation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, func, select
from webtest import TestApp

from pyramid_polydatum.glue import get_data_manager, get_engines, request_context
from pyramid_polydatum.sessions import TransactionNotActive
from tests.glue import app as demo
from tests.sessions.models import AuditEntry, Base, DeferredBase, Note


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    return request.getfixturevalue(f"{request.param}_database")


class Harness:
    def __init__(self, database, registries, retry=False, includes=(), **extra):
        settings = {
            "polydatum.engine.writer.url": database.writer_url,
            "polydatum.engine.reader.url": database.reader_url,
            "polydatum.engine.reader.pool_pre_ping": "true",
            "polydatum.engine.logger.url": database.writer_url,
            "retry.attempts": "3",
            **extra,
        }
        self.database = database
        self.admin = create_engine(database.admin_url)
        Base.metadata.create_all(self.admin if database.dialect == "sqlite" else create_engine(database.writer_url))
        DeferredBase.metadata.create_all(self.admin if database.dialect == "sqlite" else
                                         create_engine(database.writer_url))
        self.wsgi = demo.make_app(settings, retry=retry, includes=includes)
        self.engines = get_engines(self.wsgi.registry)
        registries.append(self.engines)
        if database.dialect == "sqlite":
            for entry in self.engines:
                event.listen(entry.engine, "connect", lambda conn, rec: conn.execute("PRAGMA foreign_keys = ON"))
        self.app = TestApp(self.wsgi)

    def count(self, model=Note) -> int:
        with self.admin.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()

    def close(self):
        engine = self.admin if self.database.dialect == "sqlite" else create_engine(self.database.writer_url)
        DeferredBase.metadata.drop_all(engine)
        Base.metadata.drop_all(engine)
        engine.dispose()
        self.admin.dispose()


@pytest.fixture
def harness(db, registries):
    made = Harness(db, registries)
    yield made
    made.close()


def test_a_write_is_committed_before_the_response_and_read_back_in_the_same_request(harness):
    response = harness.app.post("/create", {"id": 1, "text": "hello"})
    assert response.json == {"id": 1, "read_back": "hello"}
    assert harness.count() == 1
    assert harness.app.get("/notes/1").json == {"id": 1, "text": "hello"}


def test_a_view_that_raises_leaves_no_row(harness):
    with pytest.raises(RuntimeError, match="view failed"):
        harness.app.post("/fail", {"id": 1})
    assert harness.count() == 0


def test_a_view_that_raises_leaves_no_row_even_when_an_exception_view_renders_a_page(harness):
    response = harness.app.post("/fail-handled", {"id": 1}, status=422)
    assert response.json == {"error": "friendly"}
    assert harness.count() == 0


def test_a_failed_commit_is_the_apps_error_response_and_leaves_no_partial_data(harness):
    response = harness.app.post("/commit-fails", {"id": 1}, status=503)
    assert response.json == {"error": "the database refused the change", "notes": 0}
    assert harness.count() == 0


def test_a_returned_error_response_commits_unless_the_view_dooms_the_transaction(harness):
    harness.app.post("/refuse", {"id": 1}, status=409)
    assert harness.count() == 1
    harness.app.post("/refuse", {"id": 2, "abort": "1"}, status=409)
    assert harness.count() == 1


def test_a_missing_object_is_a_404(harness):
    harness.app.get("/notes/404", status=404)


def test_the_loggers_audit_entry_survives_a_failed_request(harness):
    harness.app.post("/fail-handled", {"id": 1}, status=422)
    with pytest.raises(RuntimeError):
        harness.app.post("/fail", {"id": 2})
    harness.app.post("/create", {"id": 3, "audit": "1"})
    with harness.admin.connect() as conn:
        messages = conn.execute(select(AuditEntry.message).order_by(AuditEntry.id)).scalars().all()
    assert messages == ["failed: HandledError", "failed: RuntimeError", "ok"]
    assert harness.count() == 1


def test_a_request_that_never_touches_the_dal_creates_no_context_and_opens_no_connection(harness):
    harness.engines.dispose()
    opened = []
    for entry in harness.engines:
        event.listen(entry.engine, "connect", lambda *a: opened.append(1))
    seen = []
    harness.wsgi.registry.registerHandler(lambda event: seen.append(event.request), (_new_response(),))
    assert harness.app.get("/untouched").json == {"ok": True}
    assert opened == []
    assert seen and request_context(seen[0]) is None


def _new_response():
    from pyramid.interfaces import INewResponse

    return INewResponse


def test_the_resources_see_the_views_error_even_when_nothing_rendered_it(harness):
    outcomes = []

    def watch(ctx):
        try:
            yield "watch"
        except Exception as error:
            outcomes.append(type(error).__name__)
            raise
        else:
            outcomes.append("success")

    get_data_manager(harness.wsgi.registry).register_resources(watch=watch)

    def touch_watch(ctx):
        ctx.watch
        yield

    get_data_manager(harness.wsgi.registry).register_context_middleware(touch_watch)
    with pytest.raises(RuntimeError):
        harness.app.post("/fail", {"id": 1})
    harness.app.post("/create", {"id": 2})
    assert outcomes == ["RuntimeError", "success"]


def test_meta_identity_is_lazy_so_a_policy_may_use_the_dal(harness):
    harness.app.post("/create", {"id": 1})
    body = harness.app.get("/whoami", {"user": "ann"}, headers={"X-Tag": "t1"}).json
    assert body["identity"] == {"user": "ann", "notes": 1}
    assert body["tag"] == body["header"] == "t1"


def test_concurrent_requests_never_see_each_others_context_or_meta(harness):
    def call(n):
        body = harness.app.get("/whoami", headers={"X-Tag": f"req-{n}"}).json
        return n, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(200)))
    assert all(body["tag"] == body["header"] == f"req-{n}" for n, body in results)
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0


@pytest.mark.parametrize("settings", [{}, {"polydatum.transactions": "false", "pyramid.includes": "pyramid_tm",
                                      "tm.manager_hook": "pyramid_tm.explicit_manager"}],
                         ids=["include's pyramid_tm", "app's own pyramid_tm"])
@pytest.mark.parametrize("route", ["/retry", "/retry-serialization"])
def test_pyramid_retry_gives_each_attempt_a_fresh_context_and_stores_one_row(db, registries, settings, route):
    made = Harness(db, registries, retry=True, **settings)
    try:
        demo.ATTEMPTS.clear()
        assert made.app.post(route, {"id": 1}).json == {"attempts": 2}
        assert len(set(demo.ATTEMPTS)) == 2
        assert made.count() == 1
        with made.admin.connect() as conn:
            assert conn.execute(select(Note.text)).scalar_one() == "attempt 2"
    finally:
        made.close()


def test_a_script_runs_a_unit_of_work_through_the_registrys_data_manager(harness):
    manager = get_data_manager(harness.wsgi.registry)
    with manager.dal(meta={"user": "cron"}) as dal:
        dal.notes.add(1, "from a script")
    assert harness.count() == 1
    with pytest.raises(ZeroDivisionError):
        with manager.dal() as dal:
            dal.notes.add(2, "rolled back")
            1 / 0
    assert harness.count() == 1


def test_threads_used_by_waitress_keep_a_clean_context_stack(harness):
    manager = get_data_manager(harness.wsgi.registry)
    errors = []

    def worker():
        try:
            for n in range(20):
                harness.app.get("/whoami", headers={"X-Tag": str(n)})
                assert manager.get_active_context() is None
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_joined_engines_without_pyramid_tm_are_refused_at_commit_naming_the_setting(sqlite_database):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationExecutionError

    config = Configurator(settings={"polydatum.engine.writer.url": sqlite_database.writer_url,
                                    "polydatum.transactions": "false"})
    config.include("pyramid_polydatum")
    with pytest.raises(ConfigurationExecutionError, match=r"polydatum\.transactions = false.*writer join request\.tm"):
        config.commit()
    get_engines(config.registry).dispose()


def test_when_pyramid_tm_is_not_active_the_app_owns_request_tm_and_unbegun_writes_are_refused(db, registries):
    made = Harness(db, registries, **{"tm.activate_hook": "tests.glue.test_include.never_active"})
    try:
        with pytest.raises(TransactionNotActive, match=r"begin request\.tm first"):
            made.app.post("/create", {"id": 1})
        assert made.count() == 0
        assert made.app.post("/create-in-tm", {"id": 2}).json == {"id": 2}
        assert made.count() == 1
        for entry in made.engines:
            assert entry.engine.pool.checkedout() == 0
    finally:
        made.close()


def never_active(request):
    return False


def test_a_raising_finished_callback_of_the_app_does_not_keep_the_context_open(harness):
    manager = get_data_manager(harness.wsgi.registry)
    with pytest.raises(ZeroDivisionError):
        harness.app.post("/raising-callback", {"id": 1})
    assert harness.count() == 1
    assert manager.get_active_context() is None
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0


def test_a_context_first_used_in_a_worker_thread_is_ended_and_released(harness):
    harness.app.post("/create", {"id": 1, "text": "hello"})
    for _ in range(3):
        assert harness.app.get("/in-worker-thread").json == {"texts": ["hello"]}
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0
