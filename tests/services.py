"""Reaching the test servers: PostgreSQL, MariaDB and Redis on 127.0.0.1.

A test that needs a server it cannot reach is skipped with the reason, unless POLYDATUM_REQUIRE_SERVICES=1 (CI),
where it fails instead. Each test run creates its own databases and roles and drops them afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from dataclasses import dataclass, field

import pytest

PG_HOST = os.environ.get("POLYDATUM_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("POLYDATUM_PG_PORT", "5432"))
PG_ADMIN = os.environ.get("POLYDATUM_PG_USER", "postgres")
MYSQL_HOST = os.environ.get("POLYDATUM_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("POLYDATUM_MYSQL_PORT", "3306"))
MYSQL_ADMIN = os.environ.get("POLYDATUM_MYSQL_USER", "root")
REDIS_URL = os.environ.get("POLYDATUM_REDIS_URL", "redis://127.0.0.1:6379/15")

#: A password with the characters that have leaked through naive URL handling: it must never be shown.
SECRET_PASSWORD = "s3cr@t:pw/%zz"


def services_required() -> bool:
    return os.environ.get("POLYDATUM_REQUIRE_SERVICES", "").strip().lower() in ("1", "true", "yes")


def unavailable(service: str, reason: str) -> None:
    """Skip (or, when services are required, fail) the current test with a visible reason."""
    message = f"{service} is not reachable: {reason}"
    if services_required():
        pytest.fail(f"{message} (POLYDATUM_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"{host}:{port}: {error}"


@dataclass
class Database:
    """One test database on a server, with a writer role and a SELECT-only reader role."""

    dialect: str
    writer_url: str
    reader_url: str
    admin_url: str
    name: str
    extra: dict[str, str] = field(default_factory=dict)


def make_suffix() -> str:
    return f"{os.getpid()}_{secrets.token_hex(3)}"


def create_postgresql() -> Database:
    import psycopg
    from psycopg import sql

    suffix = make_suffix()
    name, writer, reader = f"polydatum_test_{suffix}", f"polydatum_rw_{suffix}", f"polydatum_ro_{suffix}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_ADMIN, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(writer), sql.Literal(SECRET_PASSWORD)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(reader), sql.Literal(SECRET_PASSWORD)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(writer)))
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_ADMIN, dbname=name, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(reader)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(reader)))
        conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(
                sql.Identifier(writer), sql.Identifier(reader)
            )
        )
    from urllib.parse import quote

    password = quote(SECRET_PASSWORD, safe="")
    base = f"{PG_HOST}:{PG_PORT}/{name}"
    return Database(
        dialect="postgresql",
        writer_url=f"postgresql+psycopg://{writer}:{password}@{base}",
        reader_url=f"postgresql+psycopg://{reader}:{password}@{base}",
        admin_url=f"postgresql+psycopg://{PG_ADMIN}@{base}",
        name=name,
        extra={"writer_role": writer, "reader_role": reader},
    )


def drop_postgresql(db: Database) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_ADMIN, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))
        for role in (db.extra["writer_role"], db.extra["reader_role"]):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def create_mysql() -> Database:
    import pymysql

    suffix = make_suffix()
    name, writer, reader = f"polydatum_test_{suffix}", f"pd_rw_{suffix}"[:32], f"pd_ro_{suffix}"[:32]
    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_ADMIN, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")  # identifiers cannot be bound; built from hex only
            for user in (writer, reader):
                for host in ("localhost", "127.0.0.1", "%"):
                    cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, SECRET_PASSWORD))
                    grant = "ALL PRIVILEGES" if user == writer else "SELECT"
                    cursor.execute(f"GRANT {grant} ON `{name}`.* TO %s@%s", (user, host))
    finally:
        conn.close()
    from urllib.parse import quote

    password = quote(SECRET_PASSWORD, safe="")
    base = f"{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"
    return Database(
        dialect="mysql",
        writer_url=f"mysql+pymysql://{writer}:{password}@{base}",
        reader_url=f"mysql+pymysql://{reader}:{password}@{base}",
        admin_url=f"mysql+pymysql://{MYSQL_ADMIN}@{base}",
        name=name,
        extra={"writer_role": writer, "reader_role": reader},
    )


def drop_mysql(db: Database) -> None:
    import pymysql

    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_ADMIN, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
            for user in (db.extra["writer_role"], db.extra["reader_role"]):
                for host in ("localhost", "127.0.0.1", "%"):
                    cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
    finally:
        conn.close()


def create_sqlite(directory: str) -> Database:
    path = os.path.join(directory, "polydatum_test.sqlite")
    return Database(
        dialect="sqlite",
        writer_url=f"sqlite:///{path}",
        reader_url=f"sqlite:///file:{path}?mode=ro&uri=true",
        admin_url=f"sqlite:///{path}",
        name=path,
    )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a server stops its workers gracefully), then SIGKILL to its whole process group."""
    import contextlib
    import signal

    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # The master is not reaped yet, so its process group (its workers too) is still the one started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
