"""``DeclaredTable`` (with the Alembic naming convention) and the ``UtilityObject`` query mixin of sqlassist.

Column names given to the helpers must name a mapped column (or hybrid) of the class: they are looked up on the
mapper, never put into SQL text. Search seeds are bound parameters, and LIKE seeds are escaped so that ``%``,
``_`` and the escape character in user input match themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.orm import DeclarativeBase, Session, object_session
from sqlalchemy.sql import Select

log = logging.getLogger("pyramid_polydatum.sqlassist")

#: Constraint and index names as Alembic recommends: the same on every database, so migrations can name them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: The escape character of the LIKE patterns built here.
LIKE_ESCAPE = "/"

func_lower = func.lower


class DeclaredTable(DeclarativeBase):
    """The declarative base of sqlassist models; its ``metadata`` uses ``NAMING_CONVENTION``.

    Legacy ``Column`` declarations (with or without plain annotations) keep working (``__allow_unmapped__``).
    """

    __allow_unmapped__ = True
    metadata = _metadata


def escape_like(value: str, escape: str = LIKE_ESCAPE) -> str:
    """``value`` with the escape character, ``%`` and ``_`` escaped: as a LIKE pattern it matches only itself."""
    if len(escape) != 1:
        raise ValueError("the LIKE escape must be one character")
    return value.replace(escape, escape + escape).replace("%", escape + "%").replace("_", escape + "_")


class CoreObject:
    """sqlassist's base mixin: ``__table_pkey__`` names the id column when it is not ``id``."""

    __table_pkey__: ClassVar[str | None] = None


class UtilityObject(CoreObject):
    """Query helpers for prototyping and debugging; every ``dbSession`` argument is a SQLAlchemy ``Session``."""

    @classmethod
    def _column(cls, name: str) -> Any:
        mapper = inspect(cls)
        if name not in mapper.all_orm_descriptors or name in mapper.relationships:
            raise ValueError(f"{cls.__name__} has no mapped column named {name!r}")
        return getattr(cls, name)

    @classmethod
    def _id_column(cls, id_column: str) -> Any:
        if id_column not in inspect(cls).all_orm_descriptors and cls.__table_pkey__:
            id_column = cls.__table_pkey__
        return cls._column(id_column)

    @classmethod
    def get__by__id(cls, dbSession: Session, id: Any, id_column: str = "id") -> Any:
        """The row whose ``id_column`` equals ``id``, or None; a list or tuple of ids gives ``get__by__ids``."""
        if isinstance(id, list | tuple):
            return cls.get__by__ids(dbSession, id, id_column=id_column)
        return dbSession.scalars(select(cls).where(cls._id_column(id_column) == id).limit(1)).first()

    @classmethod
    def get__by__ids(cls, dbSession: Session, ids: Iterable[Any], id_column: str = "id") -> list[Any]:
        """The rows whose ``id_column`` is in ``ids``, ordered by that column."""
        column = cls._id_column(id_column)
        wanted = list(ids)
        if not wanted:
            return []
        return list(dbSession.scalars(select(cls).where(column.in_(wanted)).order_by(column)))

    @classmethod
    def get__by__column__lower(
        cls,
        dbSession: Session,
        column_name: str,
        search: str,
        allow_many: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> Any:
        """Rows whose lowercased column equals ``search.lower()`` (a functional index on ``lower(col)`` serves it).

        One row (or None) unless ``allow_many``, which gives the list (or None when empty); more than one row
        without ``allow_many`` is a ``ValueError``.
        """
        column = cls._column(column_name)
        query = select(cls).where(func_lower(column) == search.lower()).offset(offset).limit(limit)
        items = list(dbSession.scalars(query))
        if not items:
            return None
        if allow_many:
            return items
        if len(items) > 1:
            raise ValueError("get__by__column__lower should return 1 and only 1 item")
        return items[0]

    @classmethod
    def get__by__column__similar(
        cls,
        dbSession: Session,
        column_name: str,
        seed: str,
        prefix_only: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Any]:
        """Rows whose lowercased column starts with (or, ``prefix_only=False``, contains) ``seed``, literally."""
        column = cls._column(column_name)
        lowered = func_lower(column)
        condition = (
            lowered.startswith(seed.lower(), autoescape=True) if prefix_only
            else lowered.contains(seed.lower(), autoescape=True)
        )
        query = select(cls).where(condition).order_by(column.asc()).offset(offset).limit(limit)
        return list(dbSession.scalars(query))

    @classmethod
    def get__by__column__exact_then_ilike(cls, dbSession: Session, column_name: str, seed: str) -> Any:
        """The first row equal to ``seed``, else the first equal to it ignoring case (``%`` and ``_`` are literal)."""
        column = cls._column(column_name)
        item = dbSession.scalars(select(cls).where(column == seed).limit(1)).first()
        if item is None:
            pattern = column.ilike(escape_like(seed), escape=LIKE_ESCAPE)
            item = dbSession.scalars(select(cls).where(pattern).limit(1)).first()
        return item

    @classmethod
    def get__range(
        cls,
        dbSession: Session,
        offset: int = 0,
        limit: int | None = None,
        sort_direction: str = "asc",
        order_col: str | None = None,
        order_case_sensitive: bool = True,
        filters: Sequence[Any] | None = None,
        debug_query: bool = False,
    ) -> list[Any]:
        """A page of rows: ``filters`` (SQLAlchemy clauses) applied, ordered by ``order_col`` (comma separated
        column names, default ``id``) in ``sort_direction`` (``asc``/``desc``)."""
        if sort_direction not in ("asc", "desc"):
            raise ValueError("invalid sort direction")
        query: Select[Any] = select(cls)
        for condition in filters or ():
            query = query.where(condition)
        for name in (order_col or "id").split(","):
            column = cls._column(name.strip())
            key = column if order_case_sensitive else func_lower(column)
            query = query.order_by(key.asc() if sort_direction == "asc" else key.desc())
        query = query.offset(offset).limit(limit)
        results = list(dbSession.scalars(query))
        if debug_query:
            log.debug("get__range %s -> %d rows", query, len(results))
        return results

    def _column_keys(self) -> list[str]:
        return [attribute.key for attribute in inspect(type(self)).column_attrs]

    def columns_as_dict(self) -> dict[str, Any]:
        """Every mapped column attribute and its value; loads the attributes not loaded yet."""
        return {key: getattr(self, key) for key in self._column_keys()}

    def loaded_columns_as_dict(self) -> dict[str, Any]:
        """The column attributes already loaded, and their values; never loads anything."""
        return dict(self.loaded_columns_as_list(with_values=True))

    def loaded_columns_as_list(self, with_values: bool = False) -> list[Any]:
        """Keys of the loaded column attributes, or ``(key, value)`` pairs with ``with_values``."""
        loaded = inspect(self).dict
        keys = [key for key in self._column_keys() if key in loaded]
        return [(key, loaded[key]) for key in keys] if with_values else keys

    @property
    def _sqlalchemy_session(self) -> Session | None:
        """The session this object belongs to now (not memoized: an object can move between sessions)."""
        return object_session(self)

    @property
    def _pyramid_request(self) -> Any:
        """The Pyramid request of the session this object belongs to (``session.info['request']``), or None."""
        session = object_session(self)
        return session.info.get("request") if session is not None else None
