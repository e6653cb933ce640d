"""initialize_engine, get_wrapped_engine, get_session and reinit_engine over the engine registry."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import weakref
from urllib.parse import quote

import pytest
import transaction
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import pyramid_polydatum.sqlassist as pyramid_sqlassist
from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import ConfigurationError, forksafe, install_sessions
from pyramid_polydatum.sqlassist import engines
from tests.services import SECRET_PASSWORD


@pytest.fixture
def sqlite_engines(sqlite_database, sqlassist_registry):
    """Two engines on one SQLite file; the reader is read-only."""
    writer = create_engine(sqlite_database.writer_url)
    reader = create_engine(sqlite_database.writer_url)
    pyramid_sqlassist.initialize_engine("writer", writer, use_zope=True)
    pyramid_sqlassist.initialize_engine("reader", reader, is_readonly=True, is_default=True)
    return sqlassist_registry


# -- initialize_engine --------------------------------------------------------------------------------------


def test_flags_map_onto_the_registry_entry(sqlite_engines):
    writer, reader = sqlite_engines.get("writer"), sqlite_engines.get("reader")
    assert (writer.transaction, writer.is_readonly, writer.is_default) == ("joined", False, True)
    assert (reader.transaction, reader.is_readonly) == ("none", True)
    assert pyramid_sqlassist.get_wrapped_engine("reader").entry is reader
    assert reader.sessionmaker.kw["expire_on_commit"] is False


def test_use_zope_false_means_the_app_commits(sqlite_database, sqlassist_registry):
    engine = create_engine(sqlite_database.writer_url)
    wrapper = pyramid_sqlassist.initialize_engine("logger", engine, use_zope=False)
    assert wrapper.entry.transaction == "none"
    with wrapper.new_session() as session:
        session.execute(text("CREATE TABLE log (message TEXT)"))
        session.execute(text("INSERT INTO log VALUES (:m)"), {"m": "committed by the app"})
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar_one() == 1


def test_sessionmaker_params_reach_the_sessionmaker(sqlite_database, sqlassist_registry):
    engine = create_engine(sqlite_database.writer_url)
    params = {"autoflush": False, "autocommit": False, "info": {"app": "legacy"}}
    wrapper = pyramid_sqlassist.initialize_engine("writer", engine, sa_sessionmaker_params=params)
    assert wrapper.sa_sessionmaker.kw["autoflush"] is False
    assert "autocommit" not in wrapper.sa_sessionmaker.kw
    assert params["autocommit"] is False and "bind" not in params  # the caller's dict is left alone
    with wrapper.new_session() as session:
        assert session.info["app"] == "legacy"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sa_sessionmaker_params": {"autocommit": True}}, ConfigurationError, "no autocommit sessions"),
        ({"sa_sessionmaker_params": {"extension": object()}}, ConfigurationError, "'extension' was removed"),
        ({"sa_sessionmaker_params": {"bind": None}}, ConfigurationError, "cannot set 'bind'"),
        ({"is_autocommit": True}, ConfigurationError, "is_autocommit=True"),
        ({"reflect": True}, NotImplementedError, "reflect=True"),
        ({"is_readonly": True, "engine_name": "writer"}, ConfigurationError, "cannot be read-only"),
    ],
)
def test_what_sqlalchemy_2_cannot_do_is_refused_clearly(sqlite_database, sqlassist_registry, kwargs, error, message):
    name = kwargs.pop("engine_name", "reader")
    with pytest.raises(error, match=message):
        pyramid_sqlassist.initialize_engine(name, create_engine(sqlite_database.writer_url), **kwargs)
    assert name not in sqlassist_registry


def test_is_autocommit_with_is_readonly_is_what_sqlassist_meant(sqlite_database, sqlassist_registry):
    wrapper = pyramid_sqlassist.initialize_engine(
        "reader", create_engine(sqlite_database.writer_url), is_readonly=True, is_autocommit=True
    )
    assert wrapper.is_readonly


def test_reserved_names_and_non_engines_are_refused(sqlite_database, sqlassist_registry):
    with pytest.raises(ValueError, match="reserved"):
        pyramid_sqlassist.initialize_engine("!all", create_engine(sqlite_database.writer_url))
    with pytest.raises(ConfigurationError, match="must be a SQLAlchemy Engine"):
        pyramid_sqlassist.initialize_engine("writer", sqlite_database.writer_url)


def test_configure_mappers_is_called_unless_disabled(sqlite_database, sqlassist_registry, monkeypatch):
    calls = []
    monkeypatch.setattr(engines.sqlalchemy.orm, "configure_mappers", lambda: calls.append(1))
    pyramid_sqlassist.initialize_engine("writer", create_engine(sqlite_database.writer_url))
    pyramid_sqlassist.initialize_engine(
        "reader", create_engine(sqlite_database.writer_url), is_configure_mappers=False
    )
    assert calls == [1]


# -- get_wrapped_engine / get_session ----------------------------------------------------------------------


def test_default_is_the_engine_marked_default(sqlite_engines):
    assert pyramid_sqlassist.get_wrapped_engine().engine_name == "reader"
    assert pyramid_sqlassist.get_wrapped_engine("!default").engine_name == "reader"


def test_default_falls_back_to_the_registry_default(sqlite_database, sqlassist_registry):
    pyramid_sqlassist.initialize_engine("writer", create_engine(sqlite_database.writer_url))
    assert pyramid_sqlassist.get_wrapped_engine().engine_name == "writer"


def test_unknown_engines_raise_what_sqlassist_callers_catch(sqlite_engines):
    with pytest.raises(RuntimeError, match="'nope'"):
        pyramid_sqlassist.get_wrapped_engine("nope")
    with pytest.raises(KeyError):
        pyramid_sqlassist.reinit_engine("nope")
    with pytest.raises(ValueError, match="reserved"):
        pyramid_sqlassist.get_wrapped_engine("!all")


def test_get_session_outside_a_context_is_a_new_session_the_caller_closes(sqlite_engines):
    with pyramid_sqlassist.get_session("reader") as first, pyramid_sqlassist.get_session("reader") as second:
        assert isinstance(first, Session) and first is not second
        assert first.execute(text("SELECT 1")).scalar_one() == 1


def test_get_session_of_a_zope_engine_joins_the_thread_local_transaction(sqlite_engines):
    session = pyramid_sqlassist.get_session("writer")
    try:
        assert session.info["transaction_manager"] is transaction.manager
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        transaction.commit()
    finally:
        transaction.abort()
        session.close()
    with pyramid_sqlassist.get_session("reader") as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1


def test_get_session_inside_a_context_is_the_context_session(sqlite_engines):
    manager = install_sessions(DataManager(), sqlite_engines)
    pyramid_sqlassist.bind_data_manager(manager)
    with manager.context() as ctx:
        inside = ctx.db.reader
        assert pyramid_sqlassist.get_session("reader") is inside
        assert pyramid_sqlassist.get_wrapped_engine("reader").session is inside
    with pyramid_sqlassist.get_session("reader") as outside:
        assert outside is not inside


# -- reinit_engine ------------------------------------------------------------------------------------------


def test_reinit_engine_forgets_the_pool_without_closing_connections(sqlite_engines):
    engine = sqlite_engines.get("reader").engine
    with engine.connect() as conn:
        dbapi_connection = conn.connection.dbapi_connection
    old_pool = engine.pool
    pyramid_sqlassist.reinit_engine("reader")
    assert engine.pool is not old_pool and engine.pool.checkedin() == 0
    assert dbapi_connection.execute("SELECT 1").fetchone() == (1,)  # closed by dispose() it would raise
    dbapi_connection.close()
    pools = {entry.name: entry.engine.pool for entry in sqlite_engines}
    pyramid_sqlassist.reinit_engine()
    assert all(entry.engine.pool is not pools[entry.name] for entry in sqlite_engines)


def _backend_id(connection) -> int:
    query = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
    return connection.execute(text(query[connection.dialect.name])).scalar_one()


def test_reinit_engine_in_a_forked_child_leaves_the_parent_connections_working(
    database, sqlassist_registry, monkeypatch
):
    if database.dialect == "sqlite":
        pytest.skip("a SQLite file has no server connection to share across a fork")
    # As under a server whose at-fork hooks do not run: reinit_engine alone must make the child safe.
    monkeypatch.setattr(forksafe, "_after_fork_callbacks", weakref.WeakSet())
    engine = create_engine(database.writer_url)
    pyramid_sqlassist.initialize_engine("writer", engine)
    with engine.connect() as conn:
        parent_backend = _backend_id(conn)
    assert engine.pool.checkedin() == 1

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        status = 1
        try:
            os.close(read_end)
            report = {"inherited": engine.pool.checkedin()}
            pyramid_sqlassist.reinit_engine()
            report["after_reinit"] = engine.pool.checkedin()
            with engine.connect() as conn:
                report["backend"] = _backend_id(conn)
            engine.dispose()  # the child's own connection: closing it is right
            os.write(write_end, json.dumps(report).encode())
            status = 0
        except BaseException as error:
            os.write(write_end, json.dumps({"error": repr(error)}).encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = json.loads(pipe.read() or b"{}")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    assert report["inherited"] == 1 and report["after_reinit"] == 0
    assert report["backend"] != parent_backend
    with engine.connect() as conn:  # the parent's pooled connection is the same one, and still works
        assert _backend_id(conn) == parent_backend


# -- the transaction switch and lazy imports ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("true", True), ("yes", True), ("TRUE", True), (" Yes ", True),
    ("0", False), ("false", False), ("no", False), ("", False), (None, False),
])
def test_disable_switch_values(value, expected):
    environ = {} if value is None else {"SQLASSIST_DISABLE_TRANSACTION": value}
    assert pyramid_sqlassist.transaction_disabled(environ) is expected


def test_disable_switch_refuses_values_it_does_not_understand():
    with pytest.raises(ConfigurationError, match="SQLASSIST_DISABLE_TRANSACTION='maybe'"):
        pyramid_sqlassist.transaction_disabled({"SQLASSIST_DISABLE_TRANSACTION": "maybe"})


def test_disabled_transactions_refuse_use_zope(sqlite_database, sqlassist_registry, monkeypatch):
    monkeypatch.setenv("SQLASSIST_DISABLE_TRANSACTION", "true")
    with pytest.raises(ConfigurationError, match="SQLASSIST_DISABLE_TRANSACTION"):
        pyramid_sqlassist.initialize_engine("writer", create_engine(sqlite_database.writer_url), use_zope=True)


LAZY_IMPORT_SCRIPT = """
import json, sys
for name in ("transaction", "zope.sqlalchemy", "pyramid_tm"):
    sys.modules[name] = None  # importing them now raises ImportError
import sqlalchemy, webtest
from pyramid.config import Configurator
import pyramid_polydatum.sqlassist as pyramid_sqlassist

engine = sqlalchemy.create_engine({url!r})
pyramid_sqlassist.initialize_engine("writer", engine)
try:
    pyramid_sqlassist.initialize_engine("other", engine, use_zope=True)
    refused = None
except Exception as error:
    refused = type(error).__name__ + ": " + str(error)
config = Configurator()
pyramid_sqlassist.register_request_method(config, "dbSession")
config.add_route("home", "/")
config.add_view(lambda request: {{"one": request.dbSession.writer.execute(sqlalchemy.text("SELECT 1")).scalar()}},
                route_name="home", renderer="json")
app = webtest.TestApp(config.make_wsgi_app())
print(json.dumps({{"switch": pyramid_sqlassist.SQLASSIST_DISABLE_TRANSACTION, "refused": refused,
                  "one": app.get("/").json["one"]}}))
"""


@pytest.mark.parametrize(("switch", "reason"), [
    ("yes", "SQLASSIST_DISABLE_TRANSACTION disables"),
    ("0", "needs the 'transaction' and 'zope.sqlalchemy' packages"),
])
def test_the_transaction_packages_are_imported_only_when_asked_for(sqlite_database, switch, reason):
    """Without transaction, zope.sqlalchemy and pyramid_tm: import, initialize, serve; only use_zope=True fails."""
    script = LAZY_IMPORT_SCRIPT.format(url=sqlite_database.writer_url)
    env = {**os.environ, "SQLASSIST_DISABLE_TRANSACTION": switch}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=root,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["switch"] is (switch == "yes") and report["one"] == 1
    assert report["refused"].startswith("ConfigurationError") and reason in report["refused"]


# -- no password anywhere ----------------------------------------------------------------------------------


def test_passwords_stay_out_of_reprs_and_logs(database, sqlassist_registry, caplog):
    if database.dialect == "sqlite":
        pytest.skip("SQLite URLs have no password")
    caplog.set_level(logging.DEBUG, logger="pyramid_polydatum")
    wrapper = pyramid_sqlassist.initialize_engine("writer", create_engine(database.writer_url))
    pyramid_sqlassist.reinit_engine()
    shown = " ".join([repr(wrapper), repr(sqlassist_registry), caplog.text])
    assert "writer" in caplog.text and "***" in repr(wrapper)
    for secret in (SECRET_PASSWORD, quote(SECRET_PASSWORD, safe="")):
        assert secret not in shown


def test_initializing_a_name_again_replaces_its_engine_and_forgets_the_old_pool(sqlite_database, sqlassist_registry):
    first = create_engine(sqlite_database.writer_url)
    pyramid_sqlassist.initialize_engine("writer", first, use_zope=True, is_default=True)
    with first.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    pooled = first.pool.checkedin()
    second = create_engine(sqlite_database.writer_url)
    wrapper = pyramid_sqlassist.initialize_engine("writer", second, use_zope=True, is_default=True)
    assert pyramid_sqlassist.get_wrapped_engine("writer") is wrapper
    assert sqlassist_registry.get("writer").engine is second
    assert pyramid_sqlassist.get_wrapped_engine().sa_engine is second
    assert pooled == 1 and first.pool.checkedin() == 0  # a new, empty pool: the old connections were forgotten
    first.dispose()
