"""The demo app through WebTest on SQLite and PostgreSQL, with an admin engine to look at what was stored."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from webtest import TestApp

from demo_app import main
from demo_app.models import Base
from pyramid_polydatum.glue import get_engines


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request, registries):
    database = request.getfixturevalue(f"{request.param}_database")
    settings = {
        "demo.session_secret": "test-secret",
        "polydatum.engine.writer.url": database.writer_url,
        "polydatum.engine.reader.url": database.reader_url,
        "polydatum.engine.logger.url": database.writer_url,
    }
    if database.dialect == "sqlite":
        settings["polydatum.engine.logger.connect_args"] = '{"timeout": 15}'
    wsgi = main({}, **settings)
    registries.append(get_engines(wsgi.registry))
    admin = create_engine(database.admin_url)
    yield TestApp(wsgi), admin
    Base.metadata.drop_all(get_engines(wsgi.registry).writer.engine)
    admin.dispose()

