"""Connections return to their pool with no transaction open, whatever the driver."""

import pytest
from sqlalchemy import create_engine, text

from pyramid_polydatum.sessions.hygiene import driver_in_transaction


@pytest.fixture
def engine(database):
    engine = create_engine(database.writer_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE hygiene (x INTEGER)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE hygiene"))
    engine.dispose()


def test_the_driver_reports_its_transaction_state(engine):
    raw = engine.raw_connection()
    try:
        raw.rollback()
        assert driver_in_transaction(raw.dbapi_connection) is False
        cursor = raw.cursor()
        cursor.execute("INSERT INTO hygiene (x) VALUES (1)")
        cursor.close()
        assert driver_in_transaction(raw.dbapi_connection) is True
        raw.dbapi_connection.rollback()
        assert driver_in_transaction(raw.dbapi_connection) is False
    finally:
        raw.close()
