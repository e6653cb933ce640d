"""The reader cannot write, whatever SQL it is given: attacks through a reader whose database role MAY write.

The reader here uses the writer's own role (on SQLite: a plain, writable file URL), so only the library's walls
are in play. After each attack: no row was written or changed, and the next context's reader connection (from
the same pool) is still read-only.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, create_engine, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pyramid_polydatum import DataManager
from pyramid_polydatum.sessions import EngineRegistry, install_sessions
from pyramid_polydatum.sessions.statements import unsafe


class Base(DeclarativeBase):
    pass


class Wall(Base):
    __tablename__ = "reader_walls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    v: Mapped[str] = mapped_column(String(20))


INSERT = "INSERT INTO reader_walls (id, v) VALUES (2, 'x')"


def execute(session, *statements):
    for statement in statements:
        session.execute(text(statement))


def cte_with_dml(session):
    if session.bind.dialect.name == "postgresql":
        execute(session, "WITH x AS (INSERT INTO reader_walls (id, v) VALUES (3, 'c') RETURNING id) SELECT * FROM x")
    else:
        execute(session, "WITH x AS (SELECT 3 AS id) INSERT INTO reader_walls (id, v) SELECT id, 'c' FROM x")


def raw_commit_after_read_write(session):
    execute(session, "SET TRANSACTION READ WRITE", INSERT)
    session.connection().commit()


ATTACKS = {
    "set transaction read write, insert, COMMIT": lambda s: execute(s, "SET TRANSACTION READ WRITE", INSERT, "COMMIT"),
    "COMMIT; INSERT in one string": lambda s: execute(s, f"COMMIT; {INSERT}"),
    "set transaction read write, insert, Connection.commit()": raw_commit_after_read_write,
    "COMMIT, INSERT, COMMIT as three statements": lambda s: execute(s, "COMMIT", INSERT, "COMMIT"),
    "PRAGMA query_only = OFF, insert": lambda s: execute(s, "PRAGMA query_only = OFF", INSERT),
    "ORM flush": lambda s: (s.add(Wall(id=2, v="x")), s.flush()),
    "bulk insert": lambda s: s.execute(insert(Wall), [{"id": 2, "v": "x"}, {"id": 3, "v": "y"}]),
    "bulk update": lambda s: s.execute(update(Wall).values(v="changed")),
    "Core insert": lambda s: s.execute(insert(Wall.__table__).values(id=2, v="x")),
    "SELECT FOR UPDATE": lambda s: s.execute(select(Wall).with_for_update()).all(),
    "CTE with DML": cte_with_dml,
    "AUTOCOMMIT connection": lambda s: s.connection(execution_options={"isolation_level": "AUTOCOMMIT"}).execute(
        text(INSERT)),
    "SET SESSION CHARACTERISTICS ... READ WRITE, COMMIT, insert": lambda s: execute(
        s, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "COMMIT", INSERT, "COMMIT"),
    "SET SESSION TRANSACTION READ WRITE, COMMIT, insert": lambda s: execute(
        s, "SET SESSION TRANSACTION READ WRITE", "COMMIT", INSERT, "COMMIT"),
    "set_config default_transaction_read_only off": lambda s: execute(
        s, "SELECT set_config('default_transaction_read_only', 'off', false)", "COMMIT", INSERT, "COMMIT"),
    "START TRANSACTION READ WRITE": lambda s: execute(s, "COMMIT", "START TRANSACTION READ WRITE", INSERT, "COMMIT"),
    "comment-hidden COMMIT": lambda s: execute(s, "/* hidden */ COMMIT", INSERT, "/**/COMMIT"),
    "SET autocommit = 1": lambda s: execute(s, "SET autocommit = 1", INSERT),
}


@pytest.fixture
def walls(database, registries):
    """A registry whose reader has the writer's role (may write), one row in the table, pre-ping on."""
    writable_url = database.writer_url
    if database.dialect == "sqlite":
        writable_url = database.admin_url  # a plain file URL: opening it read-only is the library's job
    admin = create_engine(database.writer_url)  # owns the table; counts rows from outside the reader
    Base.metadata.drop_all(admin)
    Base.metadata.create_all(admin)
    with admin.begin() as conn:
        conn.execute(insert(Wall.__table__).values(id=1, v="orig"))
    registry = EngineRegistry()
    registries.append(registry)
    registry.add("writer", database.writer_url)
    registry.add("reader", writable_url, pool_pre_ping=True, pool_size=1, max_overflow=0)
    dm = install_sessions(DataManager(), registry)
    yield database, dm, admin
    Base.metadata.drop_all(admin)
    admin.dispose()


def reader_is_read_only(dm, dialect):
    with dm.context() as ctx:
        session = ctx.db.reader
        assert session.execute(select(Wall.v)).scalars().all() == ["orig"]  # reads still work
        raw = session.connection().connection.dbapi_connection
        cursor = raw.cursor()
        try:  # straight to the driver, past the statement filter: the connection itself must refuse
            if dialect == "postgresql":
                cursor.execute("SHOW default_transaction_read_only")
                assert cursor.fetchone()[0] == "on"
                cursor.execute("SHOW transaction_read_only")
                assert cursor.fetchone()[0] == "on"
            elif dialect == "mysql":
                cursor.execute("SELECT @@session.tx_read_only")
                assert int(cursor.fetchone()[0]) == 1
            else:
                cursor.execute("PRAGMA query_only")
                assert cursor.fetchone()[0] == 1
            with pytest.raises(Exception):  # each driver has its own error class
                cursor.execute(INSERT)
        finally:
            cursor.close()


def rows(admin):
    with admin.connect() as conn:
        return conn.execute(text("SELECT id, v FROM reader_walls ORDER BY id")).all()


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_no_attack_through_the_reader_writes_and_the_next_reader_is_still_read_only(walls, attack):
    database, dm, admin = walls
    try:
        with dm.context() as ctx:
            ATTACKS[attack](ctx.db.reader)
    except Exception:  # refused (by the library or the database): what counts is below
        pass
    assert [tuple(r) for r in rows(admin)] == [(1, "orig")]
    reader_is_read_only(dm, database.dialect)
    assert [tuple(r) for r in rows(admin)] == [(1, "orig")]


def test_a_reader_connection_whose_read_only_default_was_lifted_is_not_pooled_again(walls):
    database, dm, _ = walls
    if database.dialect != "postgresql":
        pytest.skip("the server reports default_transaction_read_only to the driver on PostgreSQL only")
    with dm.context() as ctx:
        raw = ctx.db.reader.connection().connection.dbapi_connection
        raw.rollback()
        cursor = raw.cursor()  # past every filter: a session default changed and committed at the driver
        cursor.execute("SET default_transaction_read_only = off")
        raw.commit()
        assert raw.info.parameter_status("default_transaction_read_only") == "off"
        first = id(raw)
    reader_is_read_only(dm, database.dialect)
    with dm.context() as ctx:
        assert id(ctx.db.reader.connection().connection.dbapi_connection) != first


def test_a_sqlite_query_only_turned_off_at_the_driver_is_not_pooled_again(walls):
    database, dm, _ = walls
    if database.dialect != "sqlite":
        pytest.skip("SQLite's query_only")
    with dm.context() as ctx:
        raw = ctx.db.reader.connection().connection.dbapi_connection
        raw.execute("PRAGMA query_only = OFF")
    reader_is_read_only(dm, database.dialect)


@pytest.mark.parametrize("statement", [
    "SELECT 1", "select * from t where a = ';'", "SELECT 1;", "SAVEPOINT sa_1", "RELEASE SAVEPOINT sa_1",
    "ROLLBACK TO SAVEPOINT sa_1", "SET search_path TO app", "SET LOCAL statement_timeout = 1000",
    "PRAGMA table_info(x)", "WITH a AS (SELECT 1) SELECT * FROM a", "(SELECT 1) UNION (SELECT 2)",
    "SELECT $$;$$", "SELECT read_only FROM files", "-- just a comment",
])
def test_ordinary_reads_pass_the_statement_filter(statement):
    assert unsafe(statement) is None


@pytest.mark.parametrize("statement", [
    "COMMIT", "  commit work", "BEGIN", "START TRANSACTION", "ROLLBACK", "END", "ABORT", "XA START 'x'",
    "PREPARE TRANSACTION 'x'", "SET TRANSACTION READ WRITE", "set session characteristics as transaction read write",
    "SET default_transaction_read_only = off", "SET SESSION TRANSACTION READ WRITE", "SET @@session.tx_read_only=0",
    "SET autocommit=1", "PRAGMA query_only = OFF", "PRAGMA main.query_only=0", "SELECT 1; DELETE FROM t",
    "SELECT 1 /* x */ ; INSERT INTO t VALUES (1)", "/* a */ COMMIT", "/* /* */ COMMIT", "/*!COMMIT*/",
    "# mysql comment\nCOMMIT", "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT 'x\\''; COMMIT", "SELECT $a$;$a$; COMMIT",
])
def test_statements_that_could_lift_read_only_are_refused(statement):
    assert unsafe(statement) is not None


def test_the_read_only_startup_option_keeps_the_users_own_options(postgresql_database, registries):
    registry = EngineRegistry()
    registries.append(registry)
    registry.add("writer", postgresql_database.writer_url)
    reader = registry.add("reader", postgresql_database.writer_url,
                          connect_args={"options": "-c statement_timeout=4321"})
    with reader.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "4321ms"
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
    writer = registry.writer.engine
    with writer.connect() as conn:  # the writer is untouched
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "off"


def test_the_statement_filter_remembers_only_safe_verdicts():
    from pyramid_polydatum.sessions import ReadOnlySessionError
    from pyramid_polydatum.sessions.statements import statement_filter

    check = statement_filter("reader")
    for _ in range(3):
        check(None, None, "SELECT 1", {}, None, False)  # remembered after the first time
        with pytest.raises(ReadOnlySessionError, match="transaction control"):
            check(None, None, "COMMIT", {}, None, False)  # refused every time, never remembered
    for n in range(3000):  # the memory is bounded: it empties itself when full, and goes on judging
        check(None, None, f"SELECT {n}", {}, None, False)
    with pytest.raises(ReadOnlySessionError):
        check(None, None, "SELECT 1; INSERT INTO t VALUES (1)", {}, None, False)
