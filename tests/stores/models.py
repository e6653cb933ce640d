"""Classes the store tests keep: a dataclass for the caches, mapped classes for SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


@dataclass
class Item:
    __store_keys__ = ["id", ("tenant", "slug")]

    id: object
    tenant: int
    slug: str
    name: str = ""


@dataclass
class Rich:
    __store_keys__ = ["id"]

    id: int
    when: datetime | None = None
    price: Decimal | None = None
    blob: bytes | None = None
    tags: tuple[str, ...] = ()


@dataclass
class Automobile:
    __store_keys__ = ["id"]

    id: int
    name: str = ""


@dataclass
class Car(Automobile):
    __store_keys__ = ["id"]

    doors: int = 4


class Empty:
    """A falsy object with a declared key."""

    __store_fields__ = ("id",)
    __stockpyle_keys__ = ["id"]

    def __init__(self, id: int) -> None:
        self.id = id

    def __bool__(self) -> bool:
        return False


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "store_row"
    __table_args__ = (UniqueConstraint("tenant", "slug"),)
    __store_keys__ = ["id", ("tenant", "slug")]

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tenant: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(50), default="")


class Loose(Base):
    """An alternate key without a unique constraint: the store must refuse ambiguous rows."""

    __tablename__ = "store_loose"
    __store_keys__ = ["id", "code"]

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(20))


class Vehicle(Base):
    __tablename__ = "store_vehicle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}


class Truck(Vehicle):
    __tablename__ = "store_truck"
    id: Mapped[int] = mapped_column(ForeignKey("store_vehicle.id"), primary_key=True)
    load: Mapped[int] = mapped_column(Integer, default=0)
    __mapper_args__ = {"polymorphic_identity": "truck"}
