"""Importing the stores changes nothing in the process; creating a store installs what it needs, once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil
    from sqlalchemy.orm import Session
    import pyramid_polydatum.stores as stores
    from pyramid_polydatum.sessions import forksafe

    for info in pkgutil.iter_modules(stores.__path__):
        importlib.import_module(f"pyramid_polydatum.stores.{info.name}")
    session = Session()
    for name in ("after_flush", "do_orm_execute", "after_begin", "after_commit", "after_transaction_end"):
        assert not list(getattr(session.dispatch, name)), f"a {name} listener on every Session after an import"
    assert not forksafe._hooks_installed, "an at-fork hook was registered by an import"
    assert len(forksafe._after_fork_callbacks) == 0
    print("clean")
    """
)


def test_importing_the_stores_installs_nothing():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout


def test_a_store_listens_on_its_registrys_sessionmakers_once(sql_env):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from pyramid_polydatum.stores import sqla

    first = sqla.SQLAlchemyStore(sql_env.dm, registry=sql_env.registry)
    sqla.SQLAlchemyStore(sql_env.dm, registry=sql_env.registry)
    maker = sql_env.registry.writer.sessionmaker
    assert first.session_targets == [maker]
    session = maker()
    try:
        for name, listener in sqla._LISTENERS:  # on the sessionmaker (unless every Session already has it), once
            assert event.contains(maker, name, listener) or event.contains(Session, name, listener)
            assert list(getattr(session.dispatch, name)).count(listener) == 1
    finally:
        session.close()
