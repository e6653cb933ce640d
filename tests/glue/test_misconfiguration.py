"""The misconfiguration matrix: every malformed configuration fails by config.commit(), naming the full key.

Each case is what a careful operator could write by mistake, in settings or through the directive. The error
must come before the first request (at ``config.include`` or ``config.commit()``) and its message must contain
the full setting key (or the directive and its argument), so the operator knows what to change. What can only
be known by connecting is listed in the README as a first-use error and covered by the check command's tests.
"""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError as PyramidConfigurationError

from pyramid_polydatum.glue import get_engines
from pyramid_polydatum.sessions import ConfigurationError

E = "polydatum.engine."
W = "polydatum.engine.writer."
NOT_CALLABLE = 42
FILE_URL = "sqlite:////nonexistent-polydatum-dir/never-opened.sqlite"  # a QueuePool; never connected here


def writer(**extra):
    """Settings with a valid writer plus ``extra`` (``writer.pool_size`` style keys under the engine prefix)."""
    return {W + "url": FILE_URL, **{E + key: value for key, value in extra.items()}}


def engines(**extra):
    return {E + key: value for key, value in extra.items()}


SETTINGS_CASES = [
    # the include's own settings
    ({"polydatum.transactoins": "true"}, "polydatum.transactoins"),
    ({"polydatum.transactions": "perhaps"}, "polydatum.transactions"),
    ({"polydatum.sessions": "not valid"}, "polydatum.sessions"),
    ({"polydatum.request_method": "1dal"}, "polydatum.request_method"),
    ({"polydatum.request_method": "class"}, "polydatum.request_method"),
    ({"polydatum.meta_factory": "tests.no_such_module.factory"}, "polydatum.meta_factory"),
    ({"polydatum.meta_factory": "tests.glue.test_misconfiguration.NOT_CALLABLE"}, "polydatum.meta_factory"),
    ({"polydatum.data_manager": "tests.no_such_module.manager"}, "polydatum.data_manager"),
    ({"polydatum.data_manager": "tests.glue.test_misconfiguration.writer"}, "polydatum.data_manager"),
    ({"polydatum.forksafe": "maybe"}, "polydatum.forksafe"),
    ({"polydatum.engines.writer.url": FILE_URL}, "polydatum.engines.writer.url"),
    # roles and names
    (engines(**{"wrtier.url": FILE_URL, "logger.url": FILE_URL}), E + "wrtier.url"),
    (engines(**{"writers.url": FILE_URL}), E + "writers.url"),
    (writer(**{"reader2.url": FILE_URL}), E + "reader2.url"),
    (writer(**{"loger.url": FILE_URL}), E + "loger.url"),
    (engines(**{"logger.url": FILE_URL}), W + "url"),
    (engines(**{"reader.url": FILE_URL}), W + "url"),
    (engines(**{"writer.pool_size": "5"}), W + "url"),
    (writer(**{"writer.readonly": "true"}), W + "readonly"),
    (writer(**{"logger.url": FILE_URL, "logger.readonly": "true"}), E + "logger.readonly"),
    (writer(**{"writer.transaction": "independent"}), W + "transaction"),
    (writer(**{"writer.transaction": "sometimes"}), W + "transaction"),
    (writer(**{"logger.url": FILE_URL, "logger.default": "true"}), E + "logger.default"),
    (engines(**{"a.url": FILE_URL, "a.default": "true", "b.url": FILE_URL, "b.default": "true"}), E + "b.default"),
    (writer(**{"archive.url": FILE_URL, "archive.default": "true"}), E + "archive.default"),
    (writer(**{"writer.default": "false"}), W + "default"),
    (writer(**{"reader.url": FILE_URL, "reader.default": "true"}), E + "reader.default"),
    (writer(**{"reader.url": FILE_URL, "reader.transaction": "joined"}), E + "reader.transaction"),
    (writer(**{"reader.url": FILE_URL, "reader.isolation_level": "AUTOCOMMIT"}), E + "reader.isolation_level"),
    (writer(**{"writer.fork_guard": "maybe"}), W + "fork_guard"),
    ({W + "url": FILE_URL, E + "writer": "x"}, E + "writer"),
    (writer(**{"1bad.url": FILE_URL}), E + "1bad.url"),
    # URLs and drivers
    (engines(**{"writer.url": ""}), W + "url"),
    (engines(**{"writer.url": "env:POLYDATUM_MATRIX_UNSET"}), W + "url"),
    (engines(**{"writer.url": "not a url"}), W + "url"),
    (engines(**{"writer.url": "nodb://host/db"}), W + "url"),
    (engines(**{"writer.url": "postgresql+nodriver://host/db"}), W + "url"),
    (engines(**{"writer.url": "mysql+mysqldb://user@host/db"}), W + "url"),
    # ranges
    (writer(**{"writer.pool_sise": "5"}), W + "pool_sise"),
    (writer(**{"writer.pool_size": "five"}), W + "pool_size"),
    (writer(**{"writer.pool_size": "0"}), W + "pool_size"),
    (writer(**{"writer.pool_size": "-1"}), W + "pool_size"),
    (writer(**{"writer.max_overflow": "-5"}), W + "max_overflow"),
    (writer(**{"writer.max_overflow": "many"}), W + "max_overflow"),
    (writer(**{"writer.pool_timeout": "-3"}), W + "pool_timeout"),
    (writer(**{"writer.pool_timeout": "0"}), W + "pool_timeout"),
    (writer(**{"writer.pool_timeout": "soon"}), W + "pool_timeout"),
    (writer(**{"writer.pool_recycle": "0"}), W + "pool_recycle"),
    (writer(**{"writer.pool_recycle": "-5"}), W + "pool_recycle"),
    (writer(**{"writer.label_length": "0"}), W + "label_length"),
    (writer(**{"writer.query_cache_size": "-1"}), W + "query_cache_size"),
    # enumerations and types
    (writer(**{"writer.pool_pre_ping": "maybe"}), W + "pool_pre_ping"),
    (writer(**{"writer.echo": "loud"}), W + "echo"),
    (writer(**{"writer.isolation_level": "READ COMMITED"}), W + "isolation_level"),
    (writer(**{"writer.isolation_level": "REPEATABLE READ"}), W + "isolation_level"),  # not one of SQLite's
    (writer(**{"writer.pool_reset_on_return": "rollbak"}), W + "pool_reset_on_return"),
    (writer(**{"writer.paramstyle": "dollar"}), W + "paramstyle"),
    (writer(**{"writer.session.join_transaction_mode": "bogus"}), W + "session.join_transaction_mode"),
    (writer(**{"writer.session.autocommit": "1"}), W + "session.autocommit"),
    (writer(**{"writer.session.expire_on_commit": "maybe"}), W + "session.expire_on_commit"),
    (writer(**{"writer.session.class_": "tests.no_such_module.Session"}), W + "session.class_"),
    (writer(**{"writer.session.class_": "builtins.dict"}), W + "session.class_"),
    (writer(**{"writer.poolclass": "NoSuchPool"}), W + "poolclass"),
    (writer(**{"writer.poolclass": "builtins.dict"}), W + "poolclass"),
    (writer(**{"writer.poolclass": "NullPool", "writer.pool_size": "5"}), W + "pool_size"),
    (writer(**{"writer.poolclass": "StaticPool", "writer.max_overflow": "3"}), W + "max_overflow"),
    (engines(**{"writer.url": "sqlite://", "writer.max_overflow": "3"}), W + "max_overflow"),  # SingletonThreadPool
    (writer(**{"writer.connect_args": "[1]"}), W + "connect_args"),
    (writer(**{"writer.connect_args": "{not json"}), W + "connect_args"),
    (writer(**{"writer.execution_options": "yes"}), W + "execution_options"),
    (writer(**{"writer.creator": "tests.no_such_module.connect"}), W + "creator"),
    (writer(**{"writer.creator": "sys.maxsize"}), W + "creator"),
    (writer(**{"writer.json_serializer": "sys.maxsize"}), W + "json_serializer"),
    (writer(**{"writer.plugins": "no_such_plugin"}), W + "plugins"),
]


def directive(name, url=FILE_URL, **options):
    return lambda config: config.add_polydatum_engine(name, url, **options)


A = "add_polydatum_engine('archive') argument "
DIRECTIVE_CASES = [
    (writer(), directive("writer"), W + "url"),  # redefines the settings' writer without override=True
    (writer(), directive("archive", pool_size="five"), A + "pool_size"),
    (writer(), directive("archive", pool_size=0), A + "pool_size"),
    (writer(), directive("archive", max_overflow=-5), A + "max_overflow"),
    (writer(), directive("archive", pool_timeout=-1), A + "pool_timeout"),
    (writer(), directive("archive", isolation_level="bogus"), A + "isolation_level"),
    (writer(), directive("archive", pool_sise=3), A + "pool_sise"),
    (writer(), directive("archive", session_options={"join_transaction_mode": "bogus"}),
     A + "session_options['join_transaction_mode']"),
    (writer(), directive("archive", readonly="perhaps"), A + "readonly"),
    (writer(), directive("archive", poolclass="NullPool", pool_size=3), A + "pool_size"),
    (writer(), directive("archive", "nodb://host/db"), A + "url"),
    (writer(), directive("wrtier"), "add_polydatum_engine('wrtier') argument url"),
    (writer(), directive("logger", default=True), "add_polydatum_engine('logger') argument default"),
    (writer(), directive("reader", transaction="joined"), "add_polydatum_engine('reader') argument transaction"),
    ({}, directive("logger"), W + "url"),  # engines, but no writer
]

CASES = [pytest.param(s, None, key, id=f"settings-{i}-{key}") for i, (s, key) in enumerate(SETTINGS_CASES)] + [
    pytest.param(s, setup, key, id=f"directive-{i}-{key}") for i, (s, setup, key) in enumerate(DIRECTIVE_CASES)
]


def test_the_matrix_has_at_least_sixty_malformed_configurations():
    assert len(CASES) >= 60


@pytest.mark.parametrize(("settings", "setup", "key"), CASES)
def test_each_misconfiguration_fails_by_commit_naming_the_full_key(settings, setup, key):
    config = None
    with pytest.raises((ConfigurationError, PyramidConfigurationError)) as failure:
        config = Configurator(settings=settings)
        config.include("pyramid_polydatum")
        if setup is not None:
            setup(config)
        config.commit()
    if config is not None:
        get_engines(config.registry).dispose()
    assert key in str(failure.value), str(failure.value)


def garbage_creator():
    return "not a connection"


def test_a_creator_returning_garbage_fails_at_first_use_naming_the_key(registries):
    """Only connecting can tell (listed as a first-use error in the README; the check command reports it)."""
    config = Configurator(settings={W + "url": "sqlite://", W + "creator": __name__ + ".garbage_creator"})
    config.include("pyramid_polydatum")
    config.commit()
    engines_ = get_engines(config.registry)
    registries.append(engines_)
    with pytest.raises(ConfigurationError, match=r"setting polydatum\.engine\.writer\.creator: .* returned str"):
        engines_.writer.engine.connect()
