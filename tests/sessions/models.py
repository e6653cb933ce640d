"""A small schema used by the session tests."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message: Mapped[str] = mapped_column(String(200))


class DeferredBase(DeclarativeBase):
    """Tables MariaDB cannot create (it has no deferrable constraints)."""


class Tag(DeferredBase):
    """A row whose foreign key is checked at commit on PostgreSQL and SQLite (deferred), not at flush."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(Note.id, deferrable=True, initially="DEFERRED")
    )
