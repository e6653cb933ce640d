"""One owner for each unit of work, tried with the neighbours a Pyramid app has.

Scripts and pshell as subprocesses, a doomed ``request.tm``, other data managers in the transaction
(pyramid_mailer over repoze.sendmail to a real SMTP sink), a thread pool shared by requests, pyramid_exclog.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import transaction
import zope.sqlalchemy
from pyramid.config import Configurator
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from tests.glue import app as demo
from tests.glue.test_include import Harness
from tests.sessions.models import Note, Tag

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture
def harness(db, registries):
    made = Harness(db, registries)
    yield made
    made.close()


def notes(harness) -> list[tuple[int, str]]:
    with harness.admin.connect() as conn:
        return [tuple(row) for row in conn.execute(select(Note.id, Note.text).order_by(Note.id))]


# -- scripts and shells: request.tm is the transaction, and only its commit commits -----------------------------


@pytest.fixture
def ini(harness, tmp_path):
    path = tmp_path / "app.ini"
    path.write_text(
        "[app:main]\n"
        "use = call:tests.glue.app:main\n"
        "polydatum.engine.writer.url = env:TEST_WRITER_URL\n"
        "polydatum.engine.reader.url = env:TEST_READER_URL\n"
        "polydatum.engine.logger.url = env:TEST_WRITER_URL\n"
    )
    return path


def run(harness, *command, stdin=None):
    env = {**os.environ, "TEST_WRITER_URL": harness.database.writer_url,
           "TEST_READER_URL": harness.database.reader_url,
           "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def script(harness, ini, mode):
    return run(harness, sys.executable, "-m", "tests.glue.scripts", str(ini), mode)


def test_the_cookiecutter_initialize_db_shape_commits_through_request_tm(harness, ini):
    done = script(harness, ini, "cookiecutter")
    assert done.returncode == 0, done.stderr
    assert notes(harness) == [(1, "initial")]


def test_a_bootstrap_script_commits_with_request_tm_and_stores_nothing_when_it_raises(harness, ini):
    done = script(harness, ini, "tm-commit")
    assert done.returncode == 0, done.stderr
    failed = script(harness, ini, "tm-raise")
    assert failed.returncode == 3 and "script failed after writing" in failed.stderr
    assert notes(harness) == [(2, "committed by with request.tm")]


@pytest.mark.parametrize("mode", ["no-tm", "no-tm-raise"])
def test_a_bootstrap_script_writing_outside_request_tm_is_told_so_and_stores_nothing(harness, ini, mode):
    done = script(harness, ini, mode)
    assert done.returncode == 3
    assert "TransactionNotActive" in done.stderr and "with request.tm:" in done.stderr
    assert notes(harness) == []


def test_pshell_commits_only_what_request_tm_commits(harness, ini):
    session = "\n".join([
        "request.tm.begin()",
        "request.dal.notes.add(10, 'aborted') and None",
        "request.tm.abort()",
        "request.tm.begin()",
        "request.dal.notes.add(11, 'committed') and None",
        "request.tm.commit()",
        "request.tm.begin()",
        "request.dal.notes.add(12, 'left without commit') and None",
        "print('SHELL-DONE')",
        "",
    ])
    done = run(harness, str(Path(sys.executable).with_name("pshell")), "-p", "python", str(ini), stdin=session)
    assert "SHELL-DONE" in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert notes(harness) == [(11, "committed")]


# -- doom: active but uncommittable -----------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_doomed_request_tm_takes_writes_and_commits_nothing(harness, when):
    response = harness.app.post("/doom", {"id": 1, "when": when})
    assert response.json == {"id": 1, "read_back": "dry run"}
    assert notes(harness) == []
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0


def test_the_cookiecutter_test_fixture_a_doomed_tm_in_extra_environ(harness):
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    tm.doom()
    app = TestApp(harness.wsgi, extra_environ={"tm.active": True, "tm.manager": tm})
    assert app.post("/create", {"id": 1, "text": "test data"}).json == {"id": 1, "read_back": "test data"}
    assert notes(harness) == []  # nothing committed while the test's transaction is open
    tm.abort()
    assert notes(harness) == []
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0


# -- other data managers in request.tm see what they see with zope.sqlalchemy alone -----------------------------


class RecordingDataManager:
    """A data manager that records the calls the transaction makes on it."""

    def __init__(self, manager):
        self.transaction_manager = manager
        self.calls: list[str] = []

    def sortKey(self):
        return "a-recording"

    def __getattr__(self, name):
        if name in ("abort", "tpc_begin", "commit", "tpc_vote", "tpc_finish", "tpc_abort"):
            return lambda txn: self.calls.append(name)
        raise AttributeError(name)


RECORDERS: list[RecordingDataManager] = []


def _join_recorder(request):
    recorder = RecordingDataManager(request.tm)
    request.tm.get().join(recorder)
    RECORDERS.append(recorder)


def recorded_write(request):
    _join_recorder(request)
    if hasattr(request, "dbsession"):
        session = request.dbsession
    else:
        request.dal  # opens the request's context
        session = request.polydatum_context.db.writer
    session.add(Note(id=int(request.params["id"]), text="recorded"))
    if request.params.get("deferred"):
        session.add(Tag(id=int(request.params["id"]), note_id=999_999))
    session.flush()
    if request.params.get("fail"):
        raise RuntimeError("view failed")
    return {"ok": True}


def database_error(exc, request):
    request.response.status = 503
    return {"error": "commit failed"}


def plain_zope_sqlalchemy_app(database):
    """The cookiecutter's pattern, for comparison: pyramid_tm and zope.sqlalchemy.register per request."""
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(database.writer_url)
    if database.dialect == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda conn, record: conn.execute("PRAGMA foreign_keys = ON"))
    factory = sessionmaker(bind=engine)

    def dbsession(request):
        session = factory()
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    with Configurator(settings={"tm.manager_hook": "pyramid_tm.explicit_manager"}) as config:
        config.include("pyramid_tm")
        config.add_request_method(dbsession, "dbsession", reify=True)
        config.add_route("recorded", "/recorded")
        config.add_view(recorded_write, route_name="recorded", renderer="json")
        config.add_view(database_error, context=DBAPIError, renderer="json")
    return config.make_wsgi_app(), engine


def call_sequences(app, first_id):
    flows = [({"id": first_id}, 200), ({"id": first_id + 1, "fail": "1"}, None),
             ({"id": first_id + 2, "deferred": "1"}, 503)]
    sequences = []
    for params, status in flows:
        RECORDERS.clear()
        if status is None:
            with pytest.raises(RuntimeError):
                app.post("/recorded", params)
        else:
            app.post("/recorded", params, status=status)
        sequences.append(RECORDERS[0].calls)
    return sequences


def test_a_data_manager_joined_to_request_tm_sees_exactly_what_it_sees_with_plain_zope_sqlalchemy(harness):
    from sqlalchemy.exc import DBAPIError

    config_app = harness.wsgi
    config = Configurator(registry=config_app.registry)
    config.add_route("recorded", "/recorded")
    config.add_view(recorded_write, route_name="recorded", renderer="json")
    config.add_view(database_error, context=DBAPIError, renderer="json")
    config.commit()
    ours = call_sequences(TestApp(config.make_wsgi_app()), 1)

    plain, engine = plain_zope_sqlalchemy_app(harness.database)
    try:
        theirs = call_sequences(TestApp(plain), 11)
    finally:
        engine.dispose()
    assert ours == theirs
    assert ours[0][-1] == "tpc_finish" and ours[0].count("abort") == 0
    assert ours[1] == ["abort"]
    assert ours[2][-1] == "tpc_abort"
    assert notes(harness) == [(1, "recorded"), (11, "recorded")]


class SmtpSink:
    """A real SMTP server on a free loopback port that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(envelope.content)
                return "250 OK"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.mark.parametrize("delivery", ["direct", "queued"])
def test_pyramid_mailer_sends_one_mail_per_committed_request_and_logs_no_error(
    db, registries, smtp, tmp_path, caplog, delivery
):
    queue = tmp_path / "queue"
    settings = {"mail.host": "127.0.0.1", "mail.port": str(smtp.port)}
    if delivery == "queued":
        from repoze.sendmail.maildir import Maildir

        Maildir(str(queue), create=True)
        settings["mail.queue_path"] = str(queue)
    made = Harness(db, registries, includes=("pyramid_mailer",), **settings)
    queued = {"queue": "1"} if delivery == "queued" else {}
    try:
        with caplog.at_level(logging.DEBUG):
            for n in range(1, 4):
                made.app.post("/send-mail", {"id": n, **queued})
            with pytest.raises(RuntimeError):
                made.app.post("/send-mail", {"id": 9, "fail": "1", **queued})
        if delivery == "queued":
            from repoze.sendmail.maildir import Maildir
            from repoze.sendmail.queue import QueueProcessor

            assert len(list(Maildir(str(queue)))) == 3
            QueueProcessor(made.wsgi.registry.getUtility(_mailer_interface()).smtp_mailer, str(queue)).send_messages()
        assert len(smtp.messages) == 3
        import email

        assert sorted(email.message_from_bytes(m)["Subject"] for m in smtp.messages) == ["note 1", "note 2", "note 3"]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR or "Error in" in r.getMessage()]
        assert errors == []
        assert [n for n, _ in notes(made)] == [1, 2, 3]
    finally:
        made.close()


def _mailer_interface():
    from pyramid_mailer.interfaces import IMailer

    return IMailer


# -- a thread pool shared by requests ---------------------------------------------------------------------------


def test_600_requests_using_a_shared_thread_pool_each_run_in_their_own_context(harness):
    demo.SHARED_POOL = ThreadPoolExecutor(max_workers=4)
    wrong = []
    try:
        def client(c):
            for n in range(75):
                tag = f"{c}-{n}"
                body = harness.app.get("/shared-pool", headers={"X-Tag": tag}).json
                if body["tag"] != tag or body["ctx"] != body["own"]:
                    wrong.append(body)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        manager = demo.SHARED_POOL
        from pyramid_polydatum.glue import get_data_manager

        dm = get_data_manager(harness.wsgi.registry)
        assert all(manager.submit(dm.get_active_context).result() is None for _ in range(8))
    finally:
        demo.SHARED_POOL.shutdown()
        demo.SHARED_POOL = None
    assert wrong == []
    for entry in harness.engines:
        assert entry.engine.pool.checkedout() == 0


# -- pyramid_exclog sees a failed commit ------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"polydatum.transactions": "false", "pyramid.includes": "pyramid_tm",
                                      "tm.manager_hook": "pyramid_tm.explicit_manager"}],
                         ids=["include's pyramid_tm", "app's own pyramid_tm"])
def test_pyramid_exclog_logs_a_commit_that_fails_at_commit(db, registries, caplog, settings):
    made = Harness(db, registries, includes=("pyramid_exclog",), **settings)
    try:
        with caplog.at_level(logging.ERROR, logger="exc_logger"):
            response = made.app.post("/commit-fails", {"id": 1}, status=503)
        assert response.json["error"] == "the database refused the change"
        logged = [r for r in caplog.records if r.name == "exc_logger"]
        assert len(logged) == 1 and "IntegrityError" in repr(logged[0].exc_info[1])
        assert notes(made) == []
    finally:
        made.close()


# -- request.dbsession for apps moving over from the cookiecutter --------------------------------------------------


def dbsession_create(request):
    request.dbsession.add(Note(id=int(request.params["id"]), text="through request.dbsession"))
    return {"same": request.dbsession is request.polydatum_context.db.writer,
            "request_in_info": request.dbsession.info.get("request") is request}


def test_request_dbsession_is_the_request_contexts_writer_joined_to_request_tm(db, registries):
    from pyramid.config import Configurator as PyramidConfigurator

    made = Harness(db, registries, **{"polydatum.request_session": "dbsession"})
    try:
        config = PyramidConfigurator(registry=made.wsgi.registry)
        config.add_route("dbsession", "/dbsession")
        config.add_view(dbsession_create, route_name="dbsession", renderer="json")
        config.commit()
        app = TestApp(config.make_wsgi_app())
        assert app.post("/dbsession", {"id": 1}).json == {"same": True, "request_in_info": True}
        assert notes(made) == [(1, "through request.dbsession")]
        tm = transaction.TransactionManager(explicit=True)
        tm.begin()
        tm.doom()
        TestApp(config.make_wsgi_app(), extra_environ={"tm.active": True, "tm.manager": tm}).post(
            "/dbsession", {"id": 2})
        tm.abort()
        assert notes(made) == [(1, "through request.dbsession")]
    finally:
        made.close()


def test_request_session_without_sessions_is_refused_naming_the_setting(sqlite_database):
    from pyramid.config import Configurator as PyramidConfigurator

    config = PyramidConfigurator(settings={"polydatum.request_session": "dbsession", "polydatum.sessions": "off"})
    with pytest.raises(Exception, match=r"polydatum\.request_session"):
        config.include("pyramid_polydatum")


def test_an_ini_still_configuring_sqlalchemy_url_fails_at_commit_naming_both_keys():
    from pyramid.config import Configurator as PyramidConfigurator
    from pyramid.exceptions import ConfigurationExecutionError

    config = PyramidConfigurator(settings={"sqlalchemy.url": "sqlite://"})
    config.include("pyramid_polydatum")
    with pytest.raises(ConfigurationExecutionError, match=r"sqlalchemy\.url.*polydatum\.engine\.writer\.url"):
        config.commit()
