"""Fixtures of the sqlassist compat tests: a fresh module-level registry per test, and the tables."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from pyramid_polydatum.sqlassist import DeclaredTable, engines


@pytest.fixture
def sqlassist_registry(registries):
    """The compat layer's registry, new for this test; `registries` checks and disposes it afterwards."""
    registry = engines._reset_for_tests()
    registries.append(registry)
    yield registry
    engines._reset_for_tests()


@pytest.fixture
def tables(database):
    """The sqlassist test tables on the test database, created by the writer role and dropped afterwards."""
    admin = create_engine(database.writer_url)
    DeclaredTable.metadata.drop_all(admin)
    DeclaredTable.metadata.create_all(admin)
    yield admin
    DeclaredTable.metadata.drop_all(admin)
    admin.dispose()
