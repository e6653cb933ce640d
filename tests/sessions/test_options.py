"""Engine settings: every value converted explicitly, every mistake named at configuration time."""

import pytest
from sqlalchemy.pool import NullPool

from pyramid_polydatum.sessions import ConfigurationError
from pyramid_polydatum.sessions.options import parse_engine_settings

PREFIX = "polydatum.engine."


def parse(**settings):
    return parse_engine_settings({PREFIX + k: v for k, v in settings.items()}, PREFIX)


@pytest.mark.parametrize(("text", "expected"), [("false", False), ("no", False), ("0", False), ("off", False),
                                                ("true", True), ("Yes", True), ("1", True), ("on", True)])
def test_booleans_are_converted_not_passed_as_truthy_strings(text, expected):
    spec = parse(**{"writer.url": "sqlite://", "writer.pool_pre_ping": text})["writer"]
    assert spec.engine["pool_pre_ping"] is expected


def test_numbers_json_and_dotted_names_are_converted():
    spec = parse(**{
        "writer.url": "sqlite://",
        "writer.pool_size": "7",
        "writer.pool_timeout": "2.5",
        "writer.echo": "debug",
        "writer.poolclass": "NullPool",
        "writer.connect_args": '{"timeout": 3}',
        "writer.pool_reset_on_return": "none",
        "writer.session.expire_on_commit": "false",
        "writer.readonly": "no",
        "writer.transaction": "None",
    })["writer"]
    assert spec.engine == {
        "pool_size": 7, "pool_timeout": 2.5, "echo": "debug", "poolclass": NullPool,
        "connect_args": {"timeout": 3}, "pool_reset_on_return": None,
    }
    assert spec.session == {"expire_on_commit": False}
    assert spec.entry == {"readonly": False, "transaction": "none"}


def test_settings_outside_the_prefix_are_ignored_and_engines_are_grouped_by_name():
    specs = parse_engine_settings(
        {"sqlalchemy.url": "x", PREFIX + "writer.url": "sqlite://", PREFIX + "logger.url": "sqlite://"}, PREFIX
    )
    assert sorted(specs) == ["logger", "writer"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"writer.url": "sqlite://", "writer.pool_sise": "5"}, r"polydatum\.engine\.writer\.pool_sise.*unknown"),
        ({"writer.url": "sqlite://", "writer.pool_size": "five"}, r"polydatum\.engine\.writer\.pool_size"),
        ({"writer.url": "sqlite://", "writer.pool_pre_ping": "maybe"}, r"writer\.pool_pre_ping.*boolean"),
        ({"writer.url": "sqlite://", "writer.transaction": "sometimes"}, r"writer\.transaction"),
        ({"writer.url": "sqlite://", "writer.session.autocommit": "1"}, r"unknown session option 'autocommit'"),
        ({"writer.url": "sqlite://", "writer.connect_args": "[1]"}, r"writer\.connect_args.*JSON object"),
        ({"writer.url": "sqlite://", "writer.poolclass": "NoSuchPool"}, r"writer\.poolclass"),
        ({"writer.pool_size": "5"}, r"polydatum\.engine\.writer\.url is missing"),
        ({"writer.url": "env:POLYDATUM_TEST_UNSET_VARIABLE"}, r"POLYDATUM_TEST_UNSET_VARIABLE is not set"),
        ({"writer": "sqlite://"}, r"<engine name>\.<option>"),
    ],
)
def test_mistakes_raise_configuration_error_naming_the_setting(settings, message):
    with pytest.raises(ConfigurationError, match=message):
        parse(**settings)


def test_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("POLYDATUM_TEST_URL", "sqlite:///from-env.db")
    assert parse(**{"writer.url": "env:POLYDATUM_TEST_URL"})["writer"].url == "sqlite:///from-env.db"
