"""alembic's env.py builds its engine with engine_from_settings: env: URLs and this package's own keys work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from pyramid_polydatum.migrations import engine_from_settings
from pyramid_polydatum.sessions import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

INI = """\
[app:main]
use = call:tests.glue.app:main
polydatum.engine.writer.url = env:MIGRATION_TEST_URL
polydatum.engine.writer.fork_guard = true
polydatum.engine.writer.pool_pre_ping = false
polydatum.engine.writer.connect_args = {"timeout": 5}
polydatum.engine.logger.url = env:MIGRATION_TEST_URL

[alembic]
script_location = %(here)s/migrations
"""

ENV_PY = '''\
from alembic import context
from pyramid.paster import get_appsettings

from pyramid_polydatum.migrations import engine_from_settings

settings = get_appsettings(context.config.config_file_name)
with engine_from_settings(settings).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

REVISION = '''\
"""create widgets"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))


def downgrade():
    op.drop_table("widgets")
'''

MAKO = '''\
"""${message}"""
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


@pytest.fixture
def project(tmp_path):
    pytest.importorskip("alembic")
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV_PY)
    (tmp_path / "migrations" / "script.py.mako").write_text(MAKO)
    (tmp_path / "migrations" / "versions" / "0001_widgets.py").write_text(REVISION)
    (tmp_path / "app.ini").write_text(INI)
    return tmp_path


def alembic(project, *args, url):
    env = {**os.environ, "MIGRATION_TEST_URL": url,
           "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "app.ini"), *args], cwd=project,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_alembic_upgrades_and_downgrades_through_engine_from_settings(project, tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    done = alembic(project, "upgrade", "head", url=url)
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    assert "widgets" in inspect(engine).get_table_names()
    done = alembic(project, "downgrade", "base", url=url)
    assert done.returncode == 0, done.stderr
    assert "widgets" not in inspect(engine).get_table_names()
    engine.dispose()


def test_engine_from_settings_applies_the_parse_table_and_names_a_missing_engine(sqlite_database):
    settings = {"polydatum.engine.writer.url": sqlite_database.writer_url,
                "polydatum.engine.writer.pool_pre_ping": "false",
                "polydatum.engine.reader.url": sqlite_database.reader_url}
    engine = engine_from_settings(settings)
    assert engine.pool._pre_ping is False  # the string "false" is False, as the include reads it
    engine.dispose()
    with pytest.raises(ConfigurationError, match=r"polydatum\.engine\.archive\.url"):
        engine_from_settings(settings, name="archive")
    with pytest.raises(ConfigurationError, match=r"polydatum\.engine\.writer\.pool_sise"):
        engine_from_settings({**settings, "polydatum.engine.writer.pool_sise": "5"})
