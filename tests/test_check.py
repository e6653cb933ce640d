"""``python -m pyramid_polydatum check some.ini``, run as the operator would: a subprocess on a real ini file."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.services import SECRET_PASSWORD

ROOT = __file__.rsplit("/tests/", 1)[0]


def never_called(global_config, **settings):  # the ini's app factory: get_appsettings does not call it
    raise AssertionError("the check command must not build the app")


def write_ini(tmp_path, **engines):
    lines = [f"polydatum.engine.{key} = {value}" for key, value in engines.items()]
    path = tmp_path / "app.ini"
    path.write_text(textwrap.dedent("""\
        [app:main]
        use = call:tests.test_check:never_called
        """) + "\n".join(line.replace("%", "%%") for line in lines) + "\n")
    return path


def run_check(path):
    result = subprocess.run(
        [sys.executable, "-m", "pyramid_polydatum", "check", str(path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    output = result.stdout + result.stderr
    for fragment in ("s3cr", SECRET_PASSWORD, "pw/", "%zz"):
        assert fragment not in output, output
    return result.returncode, output


@pytest.fixture(params=["postgresql", "mysql"])
def server_database(request):
    return request.getfixturevalue(f"{request.param}_database")


def test_a_select_only_reader_passes_and_a_reader_whose_role_may_write_is_reported(tmp_path, server_database):
    from sqlalchemy import create_engine, text

    engine = create_engine(server_database.writer_url)
    with engine.begin() as conn:  # a table, so that privileges on tables exist to be checked
        conn.execute(text("CREATE TABLE IF NOT EXISTS check_probe (id INTEGER PRIMARY KEY)"))
    engine.dispose()

    status, output = run_check(write_ini(
        tmp_path, **{"writer.url": server_database.writer_url, "reader.url": server_database.reader_url}))
    assert status == 0, output
    assert "ok polydatum.engine.reader.url: the reader's database role cannot write" in output
    assert "ok polydatum.engine.writer.url: connected" in output

    status, output = run_check(write_ini(
        tmp_path, **{"writer.url": server_database.writer_url, "reader.url": server_database.writer_url}))
    assert status == 1, output
    assert "PROBLEM polydatum.engine.reader.url: the reader's database role may write" in output


def test_an_unreachable_server_and_a_missing_database_are_reported_by_key(tmp_path, postgresql_database):
    wrong = postgresql_database.reader_url.rsplit("/", 1)[0] + "/polydatum_no_such_database"
    status, output = run_check(write_ini(tmp_path, **{
        "writer.url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        "reader.url": wrong,
    }))
    assert status == 1, output
    assert "PROBLEM polydatum.engine.writer.url: cannot connect" in output
    assert "PROBLEM polydatum.engine.reader.url: cannot connect" in output


def test_a_configuration_error_is_reported_by_key_without_connecting(tmp_path):
    status, output = run_check(write_ini(tmp_path, **{"writer.url": "sqlite://", "writer.pool_timeout": "-3"}))
    assert status == 1
    assert "PROBLEM polydatum.engine.writer.pool_timeout: setting polydatum.engine.writer.pool_timeout" in output


def test_a_sqlite_app_passes(tmp_path):
    db = tmp_path / "app.sqlite"
    status, output = run_check(write_ini(tmp_path, **{
        "writer.url": f"sqlite:///{db}", "reader.url": f"sqlite:///{db}", "logger.url": f"sqlite:///{db}",
    }))
    assert status == 0, output
    assert "0 problem(s)" in output


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path):
    status, output = run_check(tmp_path / "missing.ini")
    assert status == 1 and "PROBLEM" in output and "Traceback" not in output
