"""The engine registry: names, roles, fallbacks, and configuration errors."""

import logging
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine

from pyramid_polydatum.sessions import ConfigurationError, EngineRegistry, UnknownEngine
from tests.services import SECRET_PASSWORD


@pytest.fixture
def registry(registries):
    made = EngineRegistry()
    registries.append(made)
    return made


def test_roles_follow_the_well_known_names(registry):
    writer = registry.add("writer", "sqlite://")
    reader = registry.add("reader", "sqlite://")
    logger = registry.add("logger", "sqlite://")
    other = registry.add("analytics", "sqlite://")
    assert (writer.is_default, writer.is_readonly, writer.transaction) == (True, False, "joined")
    assert (reader.is_default, reader.is_readonly, reader.transaction) == (False, True, "none")
    assert (logger.is_default, logger.is_readonly, logger.transaction) == (False, False, "independent")
    assert (other.is_default, other.is_readonly, other.transaction) == (False, False, "joined")
    assert registry.names == ("writer", "reader", "logger", "analytics")
    assert registry.default is writer and registry.writer is writer and registry.reader is reader


def test_reads_use_the_writer_when_no_reader_is_configured(registry):
    writer = registry.add("writer", "sqlite://")
    assert registry.reader is writer
    assert registry.resolve("reader") is writer


def test_any_name_and_an_explicit_default(registry):
    primary = registry.add("primary", "sqlite://")
    archive = registry.add("archive", "sqlite://", default=True)
    assert registry.default is archive and not primary.is_default
    assert registry.writer is archive


def test_without_a_writer_nothing_is_inferred_the_registry_is_invalid(registry):
    registry.add("replica", "sqlite://", readonly=True)
    registry.add("main", "sqlite://")
    registry.add("logger", "sqlite://")
    assert not any(entry.is_default for entry in registry)
    with pytest.raises(ConfigurationError, match=r"polydatum\.engine\.writer\.url is missing.*default = true"):
        registry.validate()


def test_the_logger_and_any_independent_engine_are_never_the_default_writer(registry):
    with pytest.raises(ConfigurationError, match=r"argument default: .*independent.*cannot be the default"):
        registry.add("logger", "sqlite://", default=True)
    with pytest.raises(ConfigurationError, match=r"argument default: .*independent.*cannot be the default"):
        registry.add("audit", "sqlite://", transaction="independent", default=True)
    with pytest.raises(ConfigurationError, match=r"argument transaction: the writer .* cannot be independent"):
        registry.add("writer", "sqlite://", transaction="independent")


@pytest.mark.parametrize(("name", "guess"), [("wrtier", "writer"), ("writers", "writer"), ("reader2", "reader"),
                                             ("loger", "logger"), ("read", "reader")])
def test_a_name_close_to_a_well_known_one_must_declare_its_role(registry, name, guess):
    with pytest.raises(ConfigurationError, match=rf"close to the well-known '{guess}' \(did you mean {guess}\?\)"):
        registry.add(name, "sqlite://")
    entry = registry.add(name, "sqlite://", readonly=True)  # declared: a second reader, on purpose
    assert entry.is_readonly and not entry.is_default


def test_unknown_engine_names_the_registered_ones(registry):
    registry.add("writer", "sqlite://")
    with pytest.raises(UnknownEngine, match=r"no engine named 'logger' \(registered: writer\)"):
        registry.get("logger")


@pytest.mark.parametrize(
    ("adds", "message"),
    [
        ([("writer", {}), ("writer", {})], "already registered"),
        ([("writer", {"readonly": True})], "argument readonly: the writer cannot be read-only"),
        ([("logger", {"readonly": True})], "argument readonly: the logger cannot be read-only"),
        ([("a", {"default": True}), ("b", {"default": True})], "both claim to be the default"),
        ([("writer", {}), ("b", {"default": True})], "both claim to be the default writer .*writer always is"),
        ([("writer", {"default": False})], "the engine named writer is always the default"),
        ([("replica", {"readonly": True, "default": True})], "cannot be the default, it is read-only"),
        ([("replica", {"readonly": True, "transaction": "joined"})], "read-only but transaction='joined'"),
        ([("writer", {"transaction": "sometimes"})], "argument transaction: expected one of"),
        ([("not a name", {})], "not an identifier"),
        ([("writer", {"pool_sise": 3})], "pool_sise"),
    ],
)
def test_configuration_errors(registry, adds, message):
    with pytest.raises(ConfigurationError, match=message):
        for name, options in adds:
            registry.add(name, "sqlite://", **options)


def test_a_read_only_engine_cannot_share_the_writers_engine_object(registry):
    engine = create_engine("sqlite://")
    registry.add("writer", engine)
    with pytest.raises(ConfigurationError, match="needs its own Engine"):
        registry.add("reader", engine)


def test_from_settings_builds_every_engine_with_converted_options(registries):
    registry = EngineRegistry.from_settings({
        "polydatum.engine.writer.url": "sqlite://",
        "polydatum.engine.writer.pool_pre_ping": "false",
        "polydatum.engine.reader.url": "sqlite://",
        "polydatum.engine.logger.url": "sqlite://",
        "polydatum.engine.logger.echo": "no",
    })
    registries.append(registry)
    assert registry.names == ("logger", "reader", "writer")
    assert registry.writer.engine.pool._pre_ping is False
    assert registry.reader.is_readonly and registry.get("logger").transaction == "independent"


def test_from_settings_needs_an_engine_and_a_writable_default():
    with pytest.raises(ConfigurationError, match="no engine is configured"):
        EngineRegistry.from_settings({})
    with pytest.raises(ConfigurationError, match=r"polydatum\.engine\.writer\.url is missing: engines reader"):
        EngineRegistry.from_settings({"polydatum.engine.reader.url": "sqlite://"})


def test_passwords_never_appear_in_reprs_or_errors(registry, caplog):
    url = f"postgresql+psycopg://user:{quote(SECRET_PASSWORD, safe='')}@db.invalid/app"
    with caplog.at_level(logging.DEBUG):
        entry = registry.add("writer", url)
        texts = [repr(entry), repr(registry), str(entry.engine.url), repr(entry.engine)]
        with pytest.raises(ConfigurationError) as bad_url:
            registry.add("other", "postgresql+psycopg://user:" + SECRET_PASSWORD + "@@@:::/x")
        texts.append(str(bad_url.value))
        with pytest.raises(ConfigurationError) as bad_option:
            registry.add("third", url, pool_size="not a number")
        texts.append(str(bad_option.value))
    texts.append(caplog.text)
    for text in texts:
        for fragment in ("s3cr", "pw/", "pw%2F", "%zz"):
            assert fragment not in text, text
    assert "***" in repr(entry)
