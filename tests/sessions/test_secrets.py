"""No secret anywhere: passwords with ``@ : / %`` and non-ASCII characters, in reprs, DEBUG logs and errors."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from pyramid_polydatum.sessions import ConfigurationError, EngineRegistry
from pyramid_polydatum.sessions.registry import masked_url
from tests import services

PASSWORD = "p@ss:w/rd%41-é✓-Z9"
FRAGMENTS = ("p@ss", "ss:w", "w/rd", "rd%41", "%41", "é✓", "-Z9", quote("é✓"), quote(PASSWORD, safe=""))


def assert_no_secret(*texts):
    for text in texts:
        for fragment in FRAGMENTS:
            assert fragment not in text, f"{fragment!r} shown in: {text}"


def test_an_unescaped_password_is_refused_without_showing_it(registries):
    registry = EngineRegistry()
    registries.append(registry)
    with pytest.raises(ConfigurationError) as refused:
        registry.add("writer", f"postgresql+psycopg://user:{PASSWORD}@db.invalid/app")
    assert_no_secret(str(refused.value))
    with pytest.raises(ConfigurationError) as refused:  # parses, but the password's tail looks like a host
        registry.add("writer", "postgresql+psycopg://user:p@ss-é✓-Z9@db.invalid/app")
    assert "percent-encoded" in str(refused.value) and "argument url" in str(refused.value)
    assert_no_secret(str(refused.value))
    with pytest.raises(ConfigurationError) as from_settings:
        EngineRegistry.from_settings({"polydatum.engine.writer.url": f"postgresql+psycopg://u:{PASSWORD}@h/db"})
    assert "setting polydatum.engine.writer.url" in str(from_settings.value)
    assert_no_secret(str(from_settings.value))


def test_urls_are_masked_whatever_the_password_and_secret_query_values():
    from sqlalchemy.engine import make_url

    secret = quote(PASSWORD, safe="")
    url = make_url(f"postgresql+psycopg://user:{secret}@db/app?sslpassword={secret}&x=1")
    shown = masked_url(url)
    assert shown.startswith("postgresql+psycopg://user:***@") and "x=1" in shown
    assert_no_secret(shown)


def test_no_secret_in_reprs_debug_logs_or_errors_of_a_working_engine(postgresql_database, registries, caplog):
    """PostgreSQL trusts local connections here, so any password connects: the one under test is used for real."""
    base = postgresql_database.writer_url.split("@", 1)[1]
    user = postgresql_database.extra["writer_role"]
    url = f"postgresql+psycopg://{user}:{quote(PASSWORD, safe='')}@{base}"
    registry = EngineRegistry()
    registries.append(registry)
    with caplog.at_level(logging.DEBUG):
        entry = registry.add("writer", url, echo="debug", echo_pool="debug", pool_pre_ping=True,
                             connect_args={"connect_timeout": 5})
        reader = registry.add("reader", url, echo_pool="debug")
        for engine in (entry.engine, reader.engine):
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        errors = []
        for bad in ({"pool_size": "x"}, {"isolation_level": "bogus"}, {"pool_timeout": -1}):
            with pytest.raises(ConfigurationError) as failure:
                registry.add("archive", url, transaction="joined", **bad)
            errors.append(str(failure.value))
        down = registry.add("down", url.replace(f":{postgresql_database.extra.get('port', 5432)}/", ":1/"),
                            connect_args={"connect_timeout": 2})
        with pytest.raises(Exception) as refused:  # each driver has its own error class
            down.engine.connect()
        errors.append(str(refused.value))
    assert_no_secret(repr(entry), repr(reader), repr(registry), repr(entry.engine), caplog.text, *errors)
    assert "***" in repr(registry)
    assert any("connection" in r.getMessage().lower() for r in caplog.records if r.name.startswith("sqlalchemy.pool"))


def test_the_check_command_masks_the_password(tmp_path, postgresql_database):
    import subprocess
    import sys

    base = postgresql_database.writer_url.split("@", 1)[1]
    url = f"postgresql+psycopg://{postgresql_database.extra['writer_role']}:{quote(PASSWORD, safe='')}@{base}"
    ini = tmp_path / "app.ini"
    ini.write_text("[app:main]\nuse = call:tests.test_check:never_called\n"
                   f"polydatum.engine.writer.url = {url.replace('%', '%%')}\n"
                   f"polydatum.engine.reader.url = {url.replace('%', '%%').replace(':5432/', ':1/')}\n")
    result = subprocess.run([sys.executable, "-m", "pyramid_polydatum", "check", str(ini)], capture_output=True,
                            text=True, timeout=120, cwd=services.__file__.rsplit("/tests/", 1)[0])
    assert result.returncode == 1 and "PROBLEM polydatum.engine.reader.url" in result.stdout, result.stdout
    assert_no_secret(result.stdout, result.stderr)
