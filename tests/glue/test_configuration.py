"""Misconfiguration is reported by config.commit() (or earlier) with the setting's name; never at a request."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationExecutionError

from pyramid_polydatum import DataManager, Service
from pyramid_polydatum.glue import get_data_manager, get_engines
from pyramid_polydatum.sessions import ConfigurationError


def configure(settings, *, commit=True, setup=None):
    config = Configurator(settings=settings)
    config.include("pyramid_polydatum")
    if setup:
        setup(config)
    if commit:
        config.commit()
    return config


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"polydatum.transactoins": "true"}, r"polydatum\.transactoins: unknown setting"),
        ({"polydatum.transactions": "perhaps"}, r"polydatum\.transactions: expected a boolean"),
        ({"polydatum.sessions": "not valid"}, r"polydatum\.sessions"),
        ({"polydatum.request_method": "1dal"}, r"polydatum\.request_method"),
        ({"polydatum.engine.writer.pool_pre_pong": "true", "polydatum.engine.writer.url": "sqlite://"},
         r"polydatum\.engine\.writer\.pool_pre_pong"),
        ({"polydatum.engine.writer.pool_size": "5"}, r"polydatum\.engine\.writer\.url is missing"),
        ({"polydatum.engine.writer.url": "sqlite://", "polydatum.engine.writer.readonly": "true"},
         r"polydatum\.engine\.writer\.readonly: the writer cannot be read-only"),
        ({"polydatum.engine.reader.url": "sqlite://"}, r"polydatum\.engine\.writer\.url is missing"),
    ],
)
def test_bad_settings_fail_at_configuration_time_naming_the_key(settings, message):
    with pytest.raises((ConfigurationError, ConfigurationExecutionError), match=message):
        configure(settings)


def test_a_bad_meta_factory_fails_at_configuration_time():
    with pytest.raises(Exception, match="no_such_factory"):
        configure({"polydatum.meta_factory": "tests.glue.app.no_such_factory"})


def test_two_services_with_one_name_are_a_configuration_conflict():
    def setup(config):
        config.add_polydatum_service("items", Service())
        config.add_polydatum_service("items", Service())

    with pytest.raises(ConfigurationConflictError):
        configure({}, setup=setup)


def test_two_engines_with_one_name_are_a_configuration_conflict():
    def setup(config):
        config.add_polydatum_engine("archive", "sqlite://")
        config.add_polydatum_engine("archive", "sqlite://")

    with pytest.raises(ConfigurationConflictError):
        configure({"polydatum.engine.writer.url": "sqlite://"}, setup=setup)


def test_registrations_are_introspectable(registries):
    def middleware(ctx):
        yield

    def resource(ctx):
        yield 1

    def setup(config):
        config.add_polydatum_service("items", Service())
        config.add_polydatum_resource("cache", resource)
        config.add_polydatum_middleware(middleware)
        config.add_polydatum_engine("archive", "sqlite://", pool_pre_ping=True)

    config = configure({"polydatum.engine.writer.url": "sqlite://"}, setup=setup)
    registries.append(get_engines(config.registry))
    introspector = config.registry.introspector
    assert introspector.get("polydatum services", "items")["service"] is not None
    assert introspector.get("polydatum resources", "cache")["factory"] is resource
    assert introspector.get_category("polydatum middleware")
    assert get_engines(config.registry).names == ("writer", "archive")
    manager = get_data_manager(config.registry)
    assert set(manager.resource_names) == {"db", "cache"}


def test_an_existing_data_manager_can_be_given_by_dotted_name(registries):
    config = configure({"polydatum.data_manager": "tests.glue.test_configuration.APP_MANAGER",
                        "polydatum.engine.writer.url": "sqlite://"})
    registries.append(get_engines(config.registry))
    assert get_data_manager(config.registry) is APP_MANAGER
    assert "db" in APP_MANAGER.resource_names


APP_MANAGER = DataManager()


def test_a_data_manager_setting_that_is_not_one_is_refused():
    with pytest.raises(ConfigurationError, match=r"polydatum\.data_manager"):
        configure({"polydatum.data_manager": "tests.glue.test_configuration.configure"})


def test_sessions_can_be_turned_off_and_the_request_method_renamed():
    config = configure({"polydatum.sessions": "off", "polydatum.request_method": "data",
                        "polydatum.transactions": "false"})
    assert get_data_manager(config.registry).resource_names == ()
    from pyramid.interfaces import IRequestExtensions

    app = config.make_wsgi_app()
    assert "data" in app.registry.queryUtility(IRequestExtensions).descriptors


def test_get_data_manager_without_the_include_is_a_clear_error():
    config = Configurator()
    with pytest.raises(LookupError, match=r"config.include\('pyramid_polydatum'\)"):
        get_data_manager(config.registry)


def test_a_typo_in_the_writers_name_never_makes_the_logger_the_default_writer():
    settings = {"polydatum.engine.wrtier.url": "sqlite://", "polydatum.engine.logger.url": "sqlite://"}
    with pytest.raises(ConfigurationError, match=r"setting polydatum\.engine\.wrtier\.url: .*did you mean writer\?"):
        configure(settings)
    with pytest.raises((ConfigurationError, ConfigurationExecutionError),
                       match=r"polydatum\.engine\.writer\.url is missing"):
        configure({"polydatum.engine.logger.url": "sqlite://"})


def test_a_directive_redefining_an_engine_of_the_settings_is_a_conflict_unless_it_overrides(registries):
    settings = {"polydatum.engine.writer.url": "sqlite://", "polydatum.engine.writer.pool_pre_ping": "true"}
    with pytest.raises(ConfigurationConflictError, match=r"(?s)polydatum\.engine\.writer\.url.*override=True"):
        configure(settings, setup=lambda config: config.add_polydatum_engine("writer", "sqlite:///:memory:"))

    def override(config):
        config.add_polydatum_engine("writer", "sqlite:///:memory:", override=True)

    config = configure(settings, setup=override)
    engines = get_engines(config.registry)
    registries.append(engines)
    assert engines.names == ("writer",)
    assert engines.writer.engine.url.database == ":memory:" and not engines.writer.engine.pool._pre_ping
