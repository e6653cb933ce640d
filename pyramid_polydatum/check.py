"""``python -m pyramid_polydatum check development.ini``: what only connecting can tell, before serving.

Configuration mistakes fail at ``config.commit()``; a server that is down, a database that is missing, a wrong
password or a reader whose database role may write can only be found by connecting. This command reads the app's
settings from a PasteDeploy ini file, builds the engines exactly as the include does, connects each engine once
and reports every problem by its setting key. The exit status is 0 when there is none, 1 otherwise.

Engines added in code with ``add_polydatum_engine`` are not in the settings and are not checked here.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .sessions.errors import ConfigurationError
from .sessions.registry import EngineEntry, EngineRegistry, masked_url

ENGINE_PREFIX = "polydatum.engine."

#: MySQL/MariaDB privileges that let a role change data or schema.
_MYSQL_WRITE_PRIVILEGES = ("ALL PRIVILEGES", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE")

_PG_ROLE_MAY_WRITE = text("""
SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    OR EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%'
          AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
               OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')))
    OR EXISTS (
        SELECT 1 FROM pg_namespace n
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
          AND has_schema_privilege(n.oid, 'CREATE'))
""")


@dataclass(frozen=True)
class Finding:
    key: str
    problem: bool
    message: str

    def __str__(self) -> str:
        return f"{'PROBLEM' if self.problem else 'ok'} {self.key}: {self.message}"


def check_settings(settings: dict[str, Any]) -> list[Finding]:
    """Every finding for the engines of ``settings``; building them stops at the first configuration error."""
    from .glue.settings import parse_settings

    try:
        parse_settings(settings)
        registry = EngineRegistry.from_settings(settings, ENGINE_PREFIX)
    except ConfigurationError as error:
        message = str(error)
        key = message.split(":", 1)[0].removeprefix("setting ").split(" ", 1)[0]
        return [Finding(key, True, message)]
    try:
        findings: list[Finding] = []
        for entry in registry:
            findings.extend(check_engine(entry))
        return findings
    finally:
        registry.dispose()


def check_engine(entry: EngineEntry) -> list[Finding]:
    """Connect once; for a read-only engine, say whether its database role may write."""
    key = f"{ENGINE_PREFIX}{entry.name}.url"
    shown = masked_url(entry.engine)
    try:
        with entry.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            findings = [Finding(key, False, f"connected to {shown} ({entry.role})")]
            if entry.is_readonly:
                findings.append(_reader_role(key, entry, connection))
            connection.rollback()
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
        return [Finding(key, True, f"cannot connect to {shown}: {_scrubbed(entry, error)}")]
    return findings


def _reader_role(key: str, entry: EngineEntry, connection: Connection) -> Finding:
    dialect = entry.engine.dialect.name
    if dialect == "postgresql":
        may_write = bool(connection.execute(_PG_ROLE_MAY_WRITE).scalar())
    elif dialect in ("mysql", "mariadb"):
        grants = [str(row[0]).upper() for row in connection.exec_driver_sql("SHOW GRANTS FOR CURRENT_USER()")]
        may_write = any(
            re.search(rf"\bGRANT\b.*\b{re.escape(privilege)}\b.*\bON\b", grant)
            for grant in grants for privilege in _MYSQL_WRITE_PRIVILEGES
        )
    elif dialect == "sqlite":
        return Finding(key, False, "SQLite has no roles: the reader is read-only by its connection (mode=ro)")
    else:
        return Finding(key, True, f"cannot tell whether the reader's role may write on {dialect}")
    if may_write:
        return Finding(
            key, True, "the reader's database role may write: the library's walls still refuse writes, but give "
            "the reader a SELECT-only role as the third wall"
        )
    return Finding(key, False, "the reader's database role cannot write (SELECT-only)")


def _scrubbed(entry: EngineEntry, error: BaseException) -> str:
    """The error's first line, without the password in any spelling."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    password = entry.engine.url.password
    if password:
        for form in {str(password), quote(str(password), safe=""), quote(str(password))}:
            message = message.replace(form, "***")
    return f"{type(error).__name__}: {message}"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m pyramid_polydatum")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="connect every engine of an ini file once and report problems by key")
    check.add_argument("config_uri", help="a PasteDeploy ini file, e.g. development.ini (or development.ini#main)")
    check.add_argument("--app", default=None, help="the app section name (default: main)")
    args = parser.parse_args(argv)

    from pyramid.paster import get_appsettings

    try:
        settings = dict(get_appsettings(args.config_uri, name=args.app))
    except Exception as error:  # noqa: BLE001 - a missing or unreadable file is reported, not a traceback
        print(f"PROBLEM {args.config_uri}: cannot read the settings ({type(error).__name__}: {error})", file=out)
        return 1
    findings = check_settings(settings)
    if not any(key.startswith(ENGINE_PREFIX) for key in settings):
        findings.append(Finding(ENGINE_PREFIX + "<name>.url", False, "no engine is configured in the settings"))
    for finding in findings:
        print(finding, file=out)
    problems = sum(f.problem for f in findings)
    print(f"{problems} problem(s)", file=out)
    return 1 if problems else 0
