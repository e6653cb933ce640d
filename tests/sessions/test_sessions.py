"""Per-context sessions on SQLite, PostgreSQL and MariaDB: commits, rollbacks, read-only reader, no leaks."""

from __future__ import annotations

import threading

import pytest
import transaction
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import (
    EngineRegistry,
    JoinedSessionCommitError,
    ReadOnlySessionError,
    install_sessions,
)
from tests.sessions.models import AuditEntry, Base, DeferredBase, Note, Tag


class Setup:
    """A registry (writer, reader with pre-ping, logger) over one test database, and a DataManager using it."""

    def __init__(self, database, registries, with_reader=True):
        self.database = database
        self.registry = EngineRegistry()
        registries.append(self.registry)
        self.registry.add("writer", database.writer_url)
        if with_reader:
            self.registry.add("reader", database.reader_url, pool_pre_ping=True)
        self.registry.add("logger", database.writer_url)
        if database.dialect == "sqlite":
            for entry in self.registry:
                event.listen(entry.engine, "connect", _sqlite_foreign_keys)
        self.admin = create_engine(database.admin_url)
        if database.dialect == "sqlite":
            event.listen(self.admin, "connect", _sqlite_foreign_keys)
        self.dm = install_sessions(DataManager(), self.registry)

    def count(self, model) -> int:
        with self.admin.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()

    @property
    def supports_deferred(self) -> bool:
        return self.database.dialect != "mysql"


def _sqlite_foreign_keys(dbapi_connection, record):
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


@pytest.fixture
def setup(database, registries):
    made = Setup(database, registries)
    _create_tables(made)
    yield made
    _drop_tables(made)


def _create_tables(made):
    Base.metadata.create_all(made.admin if made.database.dialect == "sqlite" else made.registry.writer.engine)
    if made.supports_deferred:
        DeferredBase.metadata.create_all(made.registry.writer.engine)


def _drop_tables(made):
    if made.supports_deferred:
        DeferredBase.metadata.drop_all(made.registry.writer.engine)
    Base.metadata.drop_all(made.registry.writer.engine)
    made.admin.dispose()


def connections_opened(registry):
    opened = []
    for entry in registry:
        event.listen(entry.engine, "connect", lambda *args, name=entry.name: opened.append(name))
    return opened


# -- laziness ------------------------------------------------------------------------------------------------


def test_a_context_that_never_touches_the_database_opens_no_connection(setup):
    setup.registry.dispose()
    opened = connections_opened(setup.registry)
    with setup.dm.context() as ctx:
        sessions = ctx.db  # the container alone opens nothing either
        assert sessions.used == ()
    assert opened == []


def test_sessions_are_created_on_first_access_once_per_engine(setup):
    with setup.dm.context() as ctx:
        assert ctx.db.used == ()
        writer = ctx.db.writer
        assert ctx.db.writer is writer and ctx.db.get("writer") is writer
        assert ctx.db.used == ("writer",)
        assert ctx.db.reader is not writer
        assert ctx.db.logger is ctx.db.get("logger")
        assert ctx.db.used == ("writer", "reader", "logger")


# -- commit and rollback of the writer -----------------------------------------------------------------------


def test_the_writers_work_is_committed_when_the_context_succeeds(setup):
    with setup.dm.context() as ctx:
        ctx.db.writer.add(Note(id=1, text="kept"))
    assert setup.count(Note) == 1


def test_a_raw_text_write_on_the_writer_is_committed(setup):
    with setup.dm.context() as ctx:
        ctx.db.writer.execute(text("INSERT INTO notes (id, text) VALUES (:id, :text)"), {"id": 5, "text": "raw"})
    assert setup.count(Note) == 1


def test_nothing_is_stored_when_the_body_raises(setup):
    with pytest.raises(ValueError, match="view failed"):
        with setup.dm.context() as ctx:
            ctx.db.writer.add(Note(id=1, text="lost"))
            ctx.db.writer.flush()
            raise ValueError("view failed")
    assert setup.count(Note) == 0


def test_nothing_is_stored_when_a_middleware_raises_at_teardown(setup):
    def veto(ctx):
        yield
        raise PermissionError("vetoed")

    setup.dm.register_context_middleware(veto)
    with pytest.raises(PermissionError):
        with setup.dm.context() as ctx:
            ctx.db.writer.add(Note(id=1, text="vetoed"))
    assert setup.count(Note) == 0


def test_a_middleware_teardown_write_is_part_of_the_commit(setup):
    def stamp(ctx):
        yield
        ctx.db.writer.add(Note(id=99, text="written at teardown"))

    setup.dm.register_context_middleware(stamp)
    with setup.dm.context() as ctx:
        ctx.db.writer.add(Note(id=1, text="body"))
    assert setup.count(Note) == 2


def test_a_resource_teardown_error_does_not_lose_the_committed_work(setup):
    def flaky(ctx):
        yield "flaky"
        raise OSError("cannot close the flaky resource")

    setup.dm.register_resources(flaky=flaky)
    with setup.dm.context() as ctx:
        ctx.flaky
        ctx.db.writer.add(Note(id=1, text="kept"))
    assert setup.count(Note) == 1
    assert [e[0] for e in ctx.get_resource_exit_errors()] == [OSError]


def test_a_failing_commit_raises_and_stores_nothing(setup):
    if not setup.supports_deferred:
        pytest.skip("MariaDB has no deferred constraints; the injected commit failure test covers it")
    with pytest.raises(DBAPIError):
        with setup.dm.context() as ctx:
            ctx.db.writer.add(Note(id=1, text="would be orphaned with its tag"))
            ctx.db.writer.add(Tag(id=1, note_id=12345))  # violates the deferred foreign key at COMMIT
    assert setup.count(Note) == 0


def test_an_injected_commit_failure_raises_and_stores_nothing(setup):
    engine = setup.registry.writer.engine

    def fail_commit(conn):
        raise OSError("connection lost during COMMIT")

    event.listen(engine, "commit", fail_commit)
    try:
        with pytest.raises(OSError, match="during COMMIT"):
            with setup.dm.context() as ctx:
                ctx.db.writer.add(Note(id=1, text="never committed"))
    finally:
        event.remove(engine, "commit", fail_commit)
    assert setup.count(Note) == 0


def test_session_commit_on_a_joined_session_is_refused(setup):
    with pytest.raises(JoinedSessionCommitError, match="transaction manager"):
        with setup.dm.context() as ctx:
            ctx.db.writer.add(Note(id=1, text="x"))
            ctx.db.writer.commit()
    assert setup.count(Note) == 0


def test_a_transaction_manager_from_meta_is_used_and_not_committed_by_the_context(setup):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    with setup.dm.context(meta={"transaction_manager": manager}) as ctx:
        ctx.db.writer.add(Note(id=1, text="committed by the owner of the manager"))
    assert setup.count(Note) == 0  # the context does not own this transaction
    manager.commit()
    assert setup.count(Note) == 1


# -- the logger ----------------------------------------------------------------------------------------------


def test_the_loggers_writes_survive_a_failed_unit_of_work(setup):
    with pytest.raises(RuntimeError):
        with setup.dm.context() as ctx:
            ctx.db.logger.add(AuditEntry(message="attempted"))
            ctx.db.writer.add(Note(id=1, text="rolled back"))
            raise RuntimeError("request failed")
    assert setup.count(AuditEntry) == 1
    assert setup.count(Note) == 0


def test_the_logger_commits_on_success_too(setup):
    with setup.dm.context() as ctx:
        ctx.db.logger.add(AuditEntry(message="done"))
    assert setup.count(AuditEntry) == 1


# -- the reader ----------------------------------------------------------------------------------------------


def test_the_reader_refuses_to_flush_before_any_sql_is_sent(setup):
    statements = []
    event.listen(setup.registry.reader.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(statement))
    with setup.dm.context() as ctx:
        ctx.db.reader.add(Note(id=1, text="not allowed"))
        with pytest.raises(ReadOnlySessionError, match="'reader' engine is read-only"):
            ctx.db.reader.flush()
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert setup.count(Note) == 0


def test_even_raw_sql_cannot_write_through_the_reader(setup):
    with setup.dm.context() as ctx:
        with pytest.raises(DBAPIError):
            ctx.db.reader.execute(text("INSERT INTO notes (id, text) VALUES (1, 'raw via reader')"))
    assert setup.count(Note) == 0


def test_the_reader_reads_committed_data_with_pre_ping_across_contexts(setup):
    with setup.dm.context() as ctx:
        ctx.db.writer.add(Note(id=1, text="visible"))
    for _ in range(3):
        with setup.dm.context() as ctx:
            assert ctx.db.reader.scalars(select(Note.text)).all() == ["visible"]


def test_a_connection_used_by_the_reader_does_not_make_the_writer_read_only(setup, registries):
    if setup.database.dialect != "postgresql":
        pytest.skip("transaction_read_only is a PostgreSQL setting")
    # the reader on the writer's own role and URL: the same server-side user, a different pool
    same = EngineRegistry()
    registries.append(same)
    same.add("writer", setup.database.writer_url, pool_size=1, max_overflow=0)
    same.add("reader", setup.database.writer_url, pool_size=1, max_overflow=0, pool_pre_ping=True)
    dm = install_sessions(DataManager(), same)
    with dm.context() as ctx:
        assert ctx.db.reader.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
    with dm.context() as ctx:
        assert ctx.db.writer.execute(text("SHOW transaction_read_only")).scalar_one() == "off"
        ctx.db.writer.add(Note(id=7, text="writer still writes"))
    assert setup.count(Note) == 1


def test_any_is_the_reader_until_the_writer_was_used(setup):
    with setup.dm.context() as ctx:
        assert ctx.db.any is ctx.db.reader
        ctx.db.writer.add(Note(id=1, text="mine"))
        ctx.db.writer.flush()
        assert ctx.db.any is ctx.db.writer
        assert ctx.db.any.get(Note, 1).text == "mine"  # read-your-writes inside the unit of work


def test_without_a_reader_reads_use_the_writer_session(database, registries):
    made = Setup(database, registries, with_reader=False)
    _create_tables(made)
    try:
        with made.dm.context() as ctx:
            assert ctx.db.reader is ctx.db.writer is ctx.db.any is ctx.db.get("reader")
    finally:
        _drop_tables(made)


# -- isolation -----------------------------------------------------------------------------------------------


def test_threads_get_their_own_sessions_and_all_commit(setup):
    sessions = []
    errors = []
    barrier = threading.Barrier(6)

    def work(n):
        try:
            with setup.dm.context() as ctx:
                session = ctx.db.writer
                sessions.append(session)
                barrier.wait(timeout=20)
                session.add(Note(id=n, text=f"thread {n}"))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if setup.database.dialect == "sqlite":
        # SQLite serialises writers: with one file and no busy wait some may fail; none may be half-stored
        assert setup.count(Note) + len(errors) == 6
    else:
        assert errors == []
        assert setup.count(Note) == 6
    assert len({id(s) for s in sessions}) == 6


def test_every_session_is_closed_when_the_context_ends(setup):
    with setup.dm.context() as ctx:
        opened = [ctx.db.writer, ctx.db.reader, ctx.db.logger]
        for session in opened:
            session.execute(text("SELECT 1"))
        assert setup.registry.writer.engine.pool.checkedout() == 1
    for session in opened:
        assert not session.in_transaction()
    for entry in setup.registry:
        assert entry.engine.pool.checkedout() == 0


# -- regressions ---------------------------------------------------------------------------------------------


def test_a_read_only_engine_in_autocommit_mode_is_refused(database, registries):
    registry = EngineRegistry()
    registries.append(registry)
    registry.add("writer", database.writer_url)
    from pyramid_polydatum.sessions import ConfigurationError

    with pytest.raises(ConfigurationError, match="AUTOCOMMIT"):
        registry.add("reader", database.reader_url, isolation_level="AUTOCOMMIT")
    with pytest.raises(ConfigurationError, match="AUTOCOMMIT"):
        registry.add("reader", database.reader_url, execution_options={"isolation_level": "AUTOCOMMIT"})


def test_autocommit_per_connection_on_the_reader_is_refused_at_begin(setup):
    if setup.database.dialect == "sqlite":
        pytest.skip("SQLite enforces read-only per connection (query_only), not per transaction")
    with setup.dm.context() as ctx:
        reader = ctx.db.reader
        with pytest.raises(ReadOnlySessionError, match="AUTOCOMMIT"):
            reader.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            reader.execute(text("INSERT INTO notes (id, text) VALUES (1, 'autocommitted')"))
    assert setup.count(Note) == 0


def test_the_logger_still_commits_what_a_middleware_outside_the_sessions_writes(database, registries):
    made = Setup(database, registries)
    _create_tables(made)
    try:
        dm = DataManager()

        def audit(ctx):  # registered before the sessions middleware: torn down after it
            try:
                yield
            finally:
                ctx.db.logger.add(AuditEntry(message="late audit"))

        dm.register_context_middleware(audit)
        install_sessions(dm, made.registry)
        with pytest.raises(RuntimeError):
            with dm.context() as ctx:
                ctx.db.writer.add(Note(id=1, text="rolled back"))
                raise RuntimeError("failed")
        assert made.count(AuditEntry) == 1
        assert made.count(Note) == 0
    finally:
        _drop_tables(made)


def test_a_joined_session_refuses_writes_once_its_transaction_ended_but_still_reads(setup):
    from pyramid_polydatum.sessions import TransactionNotActive

    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    with setup.dm.context(meta={"transaction_manager": manager}) as ctx:
        ctx.db.writer.add(Note(id=1, text="committed"))
        manager.commit()
        assert ctx.db.writer.scalars(select(Note.text)).all() == ["committed"]
        ctx.db.writer.add(Note(id=2, text="too late"))
        with pytest.raises(TransactionNotActive, match="not active"):
            ctx.db.writer.flush()
    assert setup.count(Note) == 1
