"""How an engine's options are named in messages: the setting key, or the directive and its argument.

Every configuration error names the exact place the operator must change: ``setting
polydatum.engine.writer.pool_size`` for settings, ``add_polydatum_engine('writer') argument pool_size`` for the
directive, ``EngineRegistry.add('writer') argument pool_size`` for the Python API.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Names the options of one engine as the operator wrote them."""

    engine: str
    template: str  # "{}" is replaced by the option name
    session_template: str

    def key(self, option: str) -> str:
        return self.template.format(option)

    def session_key(self, option: str) -> str:
        return self.session_template.format(option)


def from_settings(prefix: str, name: str) -> Origin:
    base = f"setting {prefix}{name}.".replace("{", "{{").replace("}", "}}")
    return Origin(name, base + "{}", base + "session.{}")


def from_call(function: str, name: str) -> Origin:
    base = f"{function}({name!r}) argument "
    return Origin(name, base + "{}", base + "session_options[{!r}]")
