"""Models of an app written for pyramid_sqlassist, importing the compat layer instead."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import relationship

from pyramid_polydatum.sqlassist import DeclaredTable, UtilityObject


class Item(UtilityObject, DeclaredTable):
    __tablename__ = "sqlassist_items"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    id_alt = sa.Column("idalt", sa.Integer, nullable=True, unique=True)
    name = sa.Column(sa.String(100), nullable=False, index=True)
    description = sa.Column(sa.Text, nullable=True)

    @hybrid_property
    def shout(self) -> str:
        return self.name.upper()

    @shout.inplace.expression
    @classmethod
    def _shout_expression(cls):
        return sa.func.upper(cls.name)


class Tagged(UtilityObject, DeclaredTable):
    """A table with every kind of named constraint, and its primary key not called ``id``."""

    __tablename__ = "sqlassist_tagged"
    __table_pkey__ = "tag_id"
    __table_args__ = (sa.CheckConstraint("weight >= 0", name="weight_positive"),)

    tag_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    item_id = sa.Column(sa.Integer, sa.ForeignKey(Item.id), nullable=False)
    label = sa.Column(sa.String(50), nullable=False, unique=True)
    weight = sa.Column(sa.Integer, nullable=False, default=0)


class Legacy(DeclaredTable):
    """A model in the style of the sqlassist era: plain annotations on ``Column`` attributes."""

    __tablename__ = "sqlassist_legacy"

    id: int = sa.Column(sa.Integer, primary_key=True)
    note: str | None = sa.Column(sa.String(20))
    item_id: int | None = sa.Column(sa.Integer, sa.ForeignKey(Item.id))
    item: Item | None = relationship(Item)  # without __allow_unmapped__ this annotation is an error
