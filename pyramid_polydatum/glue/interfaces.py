"""Registry keys of the objects the include creates."""

from zope.interface import Interface


class IDataManager(Interface):  # type: ignore[misc]  # the base ships no type hints
    """The application's ``DataManager``."""


class IEngineRegistry(Interface):  # type: ignore[misc]  # the base ships no type hints
    """The application's ``EngineRegistry`` (absent when no engine is configured)."""
