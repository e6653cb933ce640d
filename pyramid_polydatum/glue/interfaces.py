"""Registry keys of the objects the include creates."""

from zope.interface import Interface


class IDataManager(Interface):
    """The application's ``DataManager``."""


class IEngineRegistry(Interface):
    """The application's ``EngineRegistry`` (absent when no engine is configured)."""
