"""production.ini on PostgreSQL by the README's steps, as subprocesses: roles, schema, pserve, the reader's wall.

1. ``psql ... -f demo_app/postgresql_setup.sql`` as the superuser (names and passwords as psql variables);
2. the ``DEMO_*`` environment variables;
3. ``initialize_demo_db production.ini``;
4. ``pserve production.ini``: the seeded list over HTTP, and a write through the JSON API.
The reader role then cannot write, whatever SQL it sends.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from demo_app.scripts.initialize_db import SEED_ITEMS
from tests import services
from tests.demo.processes import DEMO, TIMEOUT, clean_environment, command, free_port, get_when_up

pytestmark = pytest.mark.postgresql

PASSWORD = "pw:@/%" + secrets.token_hex(4)  # the characters that break naive URL handling


@pytest.fixture
def provisioned(tmp_path) -> Iterator[dict[str, str]]:
    """The README's first two steps on the test server; everything is dropped afterwards."""
    reason = services.port_open(services.PG_HOST, services.PG_PORT)
    if reason:
        services.unavailable("PostgreSQL", reason)
    psql = shutil.which("psql")
    if psql is None:
        services.unavailable("psql", "the PostgreSQL client is not installed")
    suffix = services.make_suffix()
    names = {"database": f"demo_{suffix}", "owner": f"demo_owner_{suffix}", "reader": f"demo_reader_{suffix}"}
    setup = subprocess.run(
        [psql, "-h", services.PG_HOST, "-p", str(services.PG_PORT), "-U", services.PG_ADMIN, "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", *[f"-v{key}={value}" for key, value in names.items()],
         f"-vowner_password={PASSWORD}", f"-vreader_password={PASSWORD}", "-f", str(DEMO / "postgresql_setup.sql")],
        capture_output=True, text=True, timeout=TIMEOUT, check=False)
    try:
        assert setup.returncode == 0, setup.stderr
        base = f"{services.PG_HOST}:{services.PG_PORT}/{names['database']}"
        password = quote(PASSWORD, safe="")
        writer = f"postgresql+psycopg://{names['owner']}:{password}@{base}"
        yield {
            "DEMO_DATABASE_URL": writer,
            "DEMO_DATABASE_READER_URL": f"postgresql+psycopg://{names['reader']}:{password}@{base}",
            "DEMO_DATABASE_LOGGER_URL": writer,
            "DEMO_SESSION_SECRET": secrets.token_hex(16),
            **{f"_{key}": value for key, value in names.items()},
        }
    finally:
        with psycopg.connect(host=services.PG_HOST, port=services.PG_PORT, user=services.PG_ADMIN,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names["database"])))
            for role in (names["owner"], names["reader"]):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def production_ini(tmp_path) -> Path:
    text = (DEMO / "production.ini").read_text()
    assert "pyramid_debugtoolbar" not in text  # production never includes the toolbar
    ini = tmp_path / "production.ini"
    ini.write_text(re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{free_port()}", text, flags=re.M))
    return ini


def test_production_ini_on_postgresql_by_the_documented_steps(provisioned, production_ini):
    env = {key: value for key, value in provisioned.items() if key.startswith("DEMO_")}
    initialized = subprocess.run([command("initialize_demo_db"), str(production_ini)], cwd=production_ini.parent,
                                 env=clean_environment(**env), capture_output=True, text=True, timeout=TIMEOUT,
                                 check=False)
    assert initialized.returncode == 0, initialized.stderr
    assert PASSWORD not in initialized.stdout + initialized.stderr

    port = int(re.search(r"^listen = 127\.0\.0\.1:(\d+)$", production_ini.read_text(), re.M).group(1))
    server = subprocess.Popen([command("pserve"), str(production_ini)], cwd=production_ini.parent,
                              env=clean_environment(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = get_when_up(f"http://127.0.0.1:{port}/", server)
        assert f"Items <small>({len(SEED_ITEMS)})</small>" in body and "Bolt M6 x 30" in body
        assert "_debug_toolbar" not in body
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/items", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"sku": "CLAMP-1", "name": "Clamp", "quantity": 5}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            assert json.load(response)["item"]["quantity"] == 5
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert "Traceback" not in err and PASSWORD not in err

    names = {key[1:]: value for key, value in provisioned.items() if key.startswith("_")}
    with psycopg.connect(host=services.PG_HOST, port=services.PG_PORT, user=names["reader"], password=PASSWORD,
                         dbname=names["database"]) as reader:
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (len(SEED_ITEMS) + 1,)
        assert reader.execute("SELECT count(*) FROM audit_log WHERE method = 'POST'").fetchone() == (1,)
        reader.rollback()
        for statement in ("INSERT INTO items (sku, name, description, quantity) VALUES ('X', 'x', '', 0)",
                          "UPDATE items SET quantity = 0", "DELETE FROM stock_movements",
                          "CREATE TABLE intruder (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
            reader.rollback()
