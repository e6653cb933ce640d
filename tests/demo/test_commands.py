"""The demo the Pyramid way: pserve, pshell, prequest and initialize_demo_db as real subprocesses.

Each command runs from the virtualenv's scripts with the working directory outside the source tree and no
PYTHONPATH, so ``demo_app`` and its ``egg:pyramid_polydatum`` entry point are found only through the installed
package (``pip install -e ".[demo]"``). The ini files are the project's own, copied next to a private SQLite
folder (their ``%(here)s``); only the development server's port is changed, to a free one.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from demo_app.models import Item
from demo_app.scripts.initialize_db import SEED_ITEMS
from tests.demo.processes import BIN, DEMO, TIMEOUT, clean_environment, command, free_port, get_when_up, run


@pytest.fixture
def development_ini(tmp_path) -> Path:
    """demo_app/development.ini in a folder of its own, served on a free port."""
    text = (DEMO / "development.ini").read_text()
    assert re.search(r"^listen = 127\.0\.0\.1:6543$", text, re.M), "development.ini no longer listens on 6543"
    ini = tmp_path / "development.ini"
    ini.write_text(re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{free_port()}", text, flags=re.M))
    return ini


def item_count(ini: Path) -> int:
    engine = create_engine(f"sqlite:///{ini.parent / 'var' / 'demo.sqlite'}")
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Item)) or 0
    finally:
        engine.dispose()


def test_initialize_demo_db_creates_the_schema_and_seeds_it_once(development_ini):
    first = run([command("initialize_demo_db"), str(development_ini)], cwd=development_ini.parent)
    assert first.returncode == 0, first.stderr
    assert f"{len(SEED_ITEMS)} item(s) added" in first.stdout
    assert item_count(development_ini) == len(SEED_ITEMS)
    again = run([command("initialize_demo_db"), str(development_ini)], cwd=development_ini.parent)
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    assert item_count(development_ini) == len(SEED_ITEMS)


def test_initialize_demo_db_without_an_ini_file_is_a_usage_error(tmp_path):
    result = run([command("initialize_demo_db")], cwd=tmp_path)
    assert result.returncode == 2 and "config_uri" in result.stderr


def test_initialize_demo_db_reports_a_database_it_cannot_reach_without_its_password(tmp_path):
    ini = tmp_path / "production.ini"
    ini.write_text((DEMO / "production.ini").read_text())
    unreachable = f"postgresql+psycopg://inventory:hush-{free_port()}@127.0.0.1:{free_port()}/inventory"
    result = run([command("initialize_demo_db"), str(ini)], cwd=tmp_path, DEMO_DATABASE_URL=unreachable,
                 DEMO_DATABASE_READER_URL=unreachable, DEMO_DATABASE_LOGGER_URL=unreachable,
                 DEMO_SESSION_SECRET="s")
    assert result.returncode == 1
    assert result.stderr.startswith("initialize_demo_db: the database refused: OperationalError")
    assert "hush-" not in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_prequest_renders_the_item_list(development_ini):
    assert run([command("initialize_demo_db"), str(development_ini)], cwd=development_ini.parent).returncode == 0
    result = run([command("prequest"), str(development_ini), "/"], cwd=development_ini.parent)
    assert result.returncode == 0, result.stderr
    assert f"Items <small>({len(SEED_ITEMS)})</small>" in result.stdout
    assert "Bolt M6 x 30" in result.stdout
    assert "Traceback" not in result.stderr


def test_pshell_offers_tm_and_dal_and_a_write_inside_tm_is_stored(development_ini):
    assert run([command("initialize_demo_db"), str(development_ini)], cwd=development_ini.parent).returncode == 0
    script = (
        'print("before", dal.items.count())\n'
        "with tm:\n"
        '    dal.items.create("CLAMP-1", "Clamp", "", 5)\n'
        "\n"
        'print("after", dal.items.count())\n'  # committed by the with block: the reader sees it
        'print("models", models.Item.__tablename__)\n'
    )
    result = run([command("pshell"), str(development_ini)], cwd=development_ini.parent, stdin=script)
    assert result.returncode == 0, result.stderr
    assert f"before {len(SEED_ITEMS)}" in result.stdout and "models items" in result.stdout
    assert f"after {len(SEED_ITEMS) + 1}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert item_count(development_ini) == len(SEED_ITEMS) + 1


def test_pserve_serves_the_demo_over_http_and_stops_cleanly(development_ini):
    port = int(re.search(r"^listen = 127\.0\.0\.1:(\d+)$", development_ini.read_text(), re.M).group(1))
    server = subprocess.Popen([command("pserve"), str(development_ini)], cwd=development_ini.parent,
                              env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = get_when_up(f"http://127.0.0.1:{port}/", server)
        assert "<h1>Items <small>(0)</small></h1>" in body  # development.ini creates the tables on start
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert "Serving on http://127.0.0.1:" in err
    assert "Traceback" not in err
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_the_demo_package_comes_from_the_installed_distribution(tmp_path):
    """Not from the working directory: what lets ``pserve demo_app/development.ini`` find it anywhere."""
    result = run([sys.executable, "-c", "import demo_app, importlib.metadata as m; print(demo_app.__file__); "
                  "print([e.value for e in m.entry_points(group='paste.app_factory', name='main') "
                  "if e.dist.name == 'pyramid_polydatum'])"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(DEMO / "__init__.py"), "['demo_app:main']"]
    assert shutil.which("initialize_demo_db", path=str(BIN))
