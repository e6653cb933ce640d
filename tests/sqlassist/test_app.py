"""A pyramid_sqlassist app moved by an import change, served through WebTest on every backend."""

from __future__ import annotations

import threading

import pytest
import webtest
from pyramid import testing
from pyramid.config import Configurator
from pyramid.request import apply_request_extensions
from sqlalchemy import create_engine, func, select, text

import pyramid_polydatum.sqlassist as pyramid_sqlassist
from pyramid_polydatum.sessions import ConfigurationError
from tests.sqlassist import app as sqlassist_app
from tests.sqlassist.models import Item


def make_app(database, **extra):
    settings = {
        "sqlalchemy_reader.url": database.reader_url,
        "sqlalchemy_writer.url": database.writer_url,
        **extra,
    }
    return webtest.TestApp(sqlassist_app.main({}, **settings))


def count_items(admin) -> int:
    with admin.connect() as conn:
        return conn.execute(select(func.count()).select_from(Item)).scalar_one()


@pytest.fixture
def testapp(database, tables, sqlassist_registry):
    return make_app(database)


def test_app_reads_and_writes_through_request_db_session(testapp, tables):
    testapp.post("/items/add", {"id": 1, "name": "first", "commit": "1"})
    testapp.post("/items/add", {"id": 2, "name": "second", "commit": "1"})
    assert testapp.get("/items").json == {"names": ["first", "second"]}
    assert count_items(tables) == 2


def test_uncommitted_writes_are_rolled_back_when_the_request_ends(testapp, tables):
    """use_zope=False: the app commits itself; what it did not commit is gone after the request."""
    testapp.post("/items/add", {"id": 1, "name": "never committed"})
    assert count_items(tables) == 0
    assert testapp.get("/items").json == {"names": []}


def test_request_sessions_are_the_request_dal_context_sessions(testapp):
    testapp.post("/items/add", {"id": 7, "name": "seven", "commit": "1"})
    result = testapp.get("/same", {"id": 7}).json
    assert result == dict.fromkeys(result, True)
    assert set(result) >= {"reader_is_ctx_reader", "writer_is_ctx_writer", "request_in_info", "item_request"}


def test_any_prefers_the_session_already_used(testapp):
    assert testapp.get("/any").json == {"any_is_writer": True}


def test_sessions_end_with_the_request(testapp, sqlassist_registry):
    testapp.post("/items/add", {"id": 1, "name": "x", "commit": "1"})
    testapp.get("/same", {"id": 1})
    for entry in sqlassist_registry:
        assert entry.engine.pool.checkedout() == 0, entry.name


def test_use_zope_sessions_commit_with_pyramid_tm(database, tables, sqlassist_registry):
    testapp = make_app(database, **{"sqlassist.use_zope": True})
    testapp.post("/items/add", {"id": 1, "name": "committed by pyramid_tm"})
    with pytest.raises(RuntimeError, match="failed after adding"):
        testapp.post("/items/add", {"id": 2, "name": "aborted", "fail": "1"})
    assert testapp.get("/items").json == {"names": ["committed by pyramid_tm"]}
    assert sqlassist_registry.get("writer").transaction == "joined"


def test_readonly_reader_refuses_flush_and_the_database_refuses_raw_writes(database, tables, sqlassist_registry):
    """The reader uses the WRITER's credentials here: only the read-only guards can stop the writes."""
    testapp = make_app(
        database, **{"sqlalchemy_reader.url": database.writer_url, "sqlassist.reader_readonly": True}
    )
    assert testapp.get("/readonly", {"id": 5}).json == {"flush": "refused", "raw": "refused"}
    assert count_items(tables) == 0


def test_without_is_readonly_the_same_reader_could_write(database, tables, sqlassist_registry):
    """The control for the test above: the same engine without is_readonly accepts both writes."""
    testapp = make_app(database, **{"sqlalchemy_reader.url": database.writer_url})
    assert testapp.get("/readonly", {"id": 5}).json == {"flush": "accepted", "raw": "accepted"}


def test_concurrent_requests_never_share_or_close_each_others_sessions(database, tables, sqlassist_registry):
    """sqlassist kept a non-scoped session on the process-global wrapper: B's cleanup closed A's session."""
    a_ready, b_done = threading.Event(), threading.Event()
    testapp = make_app(
        database, **{"sqlassist.is_scoped": False, "test.coordinator": {"a_ready": a_ready, "b_done": b_done}}
    )
    results = {}

    def request_a():
        try:
            results["a"] = testapp.get("/hold", {"id": 1}).json
        finally:
            a_ready.set()

    thread = threading.Thread(target=request_a)
    thread.start()
    try:
        assert a_ready.wait(10)
        results["b"] = testapp.get("/touch", {"id": 2}).json  # this thread: runs and ends while A holds on
    finally:
        b_done.set()
        thread.join(10)
    a, b = results["a"], results["b"]
    assert a["waited"] and b["own_request"] and a["own_request"]
    assert a["session"] != b["session"]
    assert a["in_transaction"] and a["same_connection"] and a["still_pending"]
    assert count_items(tables) == 0


def test_register_request_method_refuses_engines_of_the_include(sqlite_database, sqlassist_registry):
    config = Configurator(settings={"polydatum.engine.writer.url": sqlite_database.writer_url})
    engine = create_engine(sqlite_database.writer_url)
    pyramid_sqlassist.initialize_engine("reader", engine)
    pyramid_sqlassist.register_request_method(config, "dbSession")
    with pytest.raises(Exception, match="configured through pyramid_polydatum") as raised:
        config.commit()
    assert "writer" in str(raised.value)


def test_register_request_method_refuses_an_include_registry_with_engines(sqlite_database, sqlassist_registry,
                                                                          registries):
    from pyramid_polydatum.glue import get_engines

    config = Configurator()
    other = get_engines(config.registry)
    registries.append(other)
    other.add("writer", sqlite_database.writer_url)
    with pytest.raises(ConfigurationError, match="already has pyramid_polydatum engines"):
        pyramid_sqlassist.register_request_method(config, "dbSession")


def test_container_without_register_request_method_explains(sqlassist_registry):
    config = Configurator()
    config.add_request_method(pyramid_sqlassist.DbSessionsContainer, "dbSession", reify=True)
    config.add_route("home", "/")
    config.add_view(lambda request: {"reader": repr(request.dbSession.reader)}, route_name="home", renderer="json")
    testapp = webtest.TestApp(config.make_wsgi_app())
    with pytest.raises(RuntimeError, match="register_request_method"):
        testapp.get("/")


def test_sqlassist_style_unit_tests_with_pyramid_testing(sqlite_database, sqlassist_registry):
    """sqlassist's own tests used testing.setUp() (an autocommitting Configurator) and a DummyRequest."""
    config = testing.setUp()
    try:
        engine = create_engine(sqlite_database.writer_url)
        pyramid_sqlassist.initialize_engine("writer", engine)
        pyramid_sqlassist.register_request_method(config, "dbSession")
        bare = testing.DummyRequest()  # no apply_request_extensions: the container works all the same
        container = pyramid_sqlassist.DbSessionsContainer(bare)
        assert container.writer.execute(text("SELECT 1")).scalar_one() == 1
        assert container.writer.info["request"] is bare
        bare._process_finished_callbacks()
        assert engine.pool.checkedout() == 0
        request = testing.DummyRequest()
        apply_request_extensions(request)
        writer = request.dbSession.writer
        assert writer.execute(text("SELECT 1")).scalar_one() == 1
        assert writer.info["request"] is request and request.dbSession.get_writer() is writer
        assert engine.pool.checkedout() == 1
        request._process_finished_callbacks()
        assert engine.pool.checkedout() == 0 and not writer.in_transaction()
    finally:
        testing.tearDown()
