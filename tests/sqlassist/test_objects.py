"""DeclaredTable's naming convention and the UtilityObject helpers, on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, defer
from sqlalchemy.schema import CreateIndex, CreateTable

from pyramid_polydatum.sqlassist import NAMING_CONVENTION, DeclaredTable, escape_like
from tests.sqlassist.models import Item, Legacy, Tagged

NAMES = {
    1: "Alpha",
    2: "alphaXbeta",
    3: "alpha_beta",
    4: "5000 off",
    5: "50% off",
    6: "ab",
    7: "a/b",
    8: "Zulu",
}


@pytest.fixture
def session(tables):
    with Session(tables) as session:
        session.add_all(Item(id=key, id_alt=100 + key, name=name, description=f"about {name}")
                        for key, name in NAMES.items())
        session.add(Tagged(tag_id=41, item_id=1, label="first", weight=1))
        session.commit()
        session.expunge_all()
        yield session


def names(items) -> list[str]:
    return [item.name for item in items]


# -- naming convention --------------------------------------------------------------------------------------


def test_constraint_names_follow_the_alembic_convention():
    table = Tagged.__table__
    names_by_kind = {type(c).__name__: c.name for c in table.constraints}
    assert names_by_kind == {
        "PrimaryKeyConstraint": "pk_sqlassist_tagged",
        "UniqueConstraint": "uq_sqlassist_tagged_label",
        "ForeignKeyConstraint": "fk_sqlassist_tagged_item_id_sqlassist_items",
        "CheckConstraint": "ck_sqlassist_tagged_weight_positive",
    }
    assert {index.name for index in Item.__table__.indexes} == {"ix_sqlassist_items_name"}
    assert DeclaredTable.metadata.naming_convention["pk"] == NAMING_CONVENTION["pk"] == "pk_%(table_name)s"
    ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    assert "CONSTRAINT pk_sqlassist_tagged PRIMARY KEY (tag_id)" in ddl
    assert "CONSTRAINT fk_sqlassist_tagged_item_id_sqlassist_items FOREIGN KEY(item_id)" in ddl
    index = next(iter(Item.__table__.indexes))
    assert "CREATE INDEX ix_sqlassist_items_name" in str(CreateIndex(index).compile(dialect=postgresql.dialect()))


def test_legacy_models_with_plain_annotations_still_map():
    assert list(Legacy.__table__.c.keys()) == ["id", "note", "item_id"]
    assert Legacy.item.property.mapper.class_ is Item
    assert Legacy.__table__.primary_key.name == "pk_sqlassist_legacy"


def test_the_database_has_the_convention_names(database, tables):
    inspector = sa.inspect(tables)
    assert inspector.get_foreign_keys("sqlassist_tagged")[0]["name"] == "fk_sqlassist_tagged_item_id_sqlassist_items"
    assert "ix_sqlassist_items_name" in {index["name"] for index in inspector.get_indexes("sqlassist_items")}
    if database.dialect == "postgresql":  # MariaDB names every primary key PRIMARY; SQLite reports no name
        assert inspector.get_pk_constraint("sqlassist_tagged")["name"] == "pk_sqlassist_tagged"
        assert {uq["name"] for uq in inspector.get_unique_constraints("sqlassist_tagged")} == {
            "uq_sqlassist_tagged_label"
        }


# -- LIKE seeds are literal ---------------------------------------------------------------------------------


def test_escape_like_escapes_wildcards_and_the_escape_character():
    assert escape_like("50%_a/b") == "50/%/_a//b"
    assert escape_like("a!b%", escape="!") == "a!!b!%"
    with pytest.raises(ValueError, match="one character"):
        escape_like("x", escape="//")


@pytest.mark.parametrize(("seed", "prefix_only", "expected"), [
    ("alpha_", True, ["alpha_beta"]),          # `_` would also match alphaXbeta
    ("ALPHA", True, ["Alpha", "alpha_beta", "alphaXbeta"]),
    ("0% o", False, ["50% off"]),             # `%` would also match 5000 off
    ("a/", True, ["a/b"]),                    # the escape character itself; unescaped it would match ab
    ("%", True, []),                        # no name starts with a literal %
    ("%", False, ["50% off"]),
])
def test_get_by_column_similar_matches_the_seed_literally(session, seed, prefix_only, expected):
    found = Item.get__by__column__similar(session, "name", seed, prefix_only=prefix_only)
    assert sorted(names(found), key=str.lower) == sorted(expected, key=str.lower)


def test_get_by_column_similar_pages(session):
    found = Item.get__by__column__similar(session, "name", "a", offset=1, limit=2)
    assert len(found) == 2


@pytest.mark.parametrize(("seed", "expected"), [
    ("alpha_beta", "alpha_beta"),
    ("ALPHA_BETA", "alpha_beta"),   # unescaped, `_` could return alphaXbeta
    ("50% OFF", "50% off"),
    ("A/B", "a/b"),                 # unescaped, `/B` would mean a literal B: ab
    ("%", None),                    # unescaped, `%` matches every row
    ("_____", None),
])
def test_exact_then_ilike_matches_the_seed_literally(session, seed, expected):
    item = Item.get__by__column__exact_then_ilike(session, "name", seed)
    assert (item.name if item is not None else None) == expected


# -- the other helpers --------------------------------------------------------------------------------------


def test_get_by_id_and_ids(session):
    assert Item.get__by__id(session, 3).name == "alpha_beta"
    assert Item.get__by__id(session, 999) is None
    assert [item.id for item in Item.get__by__id(session, (3, 1, 2))] == [1, 2, 3]
    assert [item.id for item in Item.get__by__ids(session, [8, 7])] == [7, 8]
    assert Item.get__by__ids(session, []) == []
    assert Item.get__by__id(session, 105, id_column="id_alt").id == 5
    assert Tagged.get__by__id(session, 41).label == "first"  # no `id` column: __table_pkey__


def test_column_names_must_be_mapped_columns(session):
    for bad in ("nope", "get__by__id", "name; DROP TABLE sqlassist_items", "__table__"):
        with pytest.raises(ValueError, match="no mapped column"):
            Item.get__by__column__lower(session, bad, "x")
    with pytest.raises(ValueError, match="no mapped column"):
        Item.get__range(session, order_col="name,nope")


def test_get_by_column_lower(session):
    assert Item.get__by__column__lower(session, "name", "ZULU").id == 8
    assert Item.get__by__column__lower(session, "name", "nobody") is None
    assert names(Item.get__by__column__lower(session, "name", "alpha", allow_many=True)) == ["Alpha"]
    assert Item.get__by__column__lower(session, "shout", "zulu").id == 8  # a hybrid works too
    session.add(Item(id=9, name="ZULU"))
    session.flush()
    with pytest.raises(ValueError, match="1 and only 1"):
        Item.get__by__column__lower(session, "name", "zulu")
    assert len(Item.get__by__column__lower(session, "name", "zulu", allow_many=True)) == 2
    session.rollback()


def test_get_range(session):
    assert [item.id for item in Item.get__range(session)] == list(range(1, 9))
    assert [item.id for item in Item.get__range(session, offset=2, limit=3, sort_direction="desc")] == [6, 5, 4]
    assert [item.id for item in Item.get__range(session, order_col="id_alt", limit=2)] == [1, 2]
    ordered = Item.get__range(session, order_col="name", order_case_sensitive=False, filters=[Item.id > 6])
    assert names(ordered) == ["a/b", "Zulu"]
    assert names(Item.get__range(session, filters=[Item.id.in_([2, 3])], debug_query=True)) == ["alphaXbeta",
                                                                                                      "alpha_beta"]
    with pytest.raises(ValueError, match="sort direction"):
        Item.get__range(session, sort_direction="sideways")


def test_columns_as_dict_and_loaded_columns(session):
    item = session.scalars(sa.select(Item).where(Item.id == 1).options(defer(Item.description))).one()
    assert item.loaded_columns_as_list() == ["id", "id_alt", "name"]
    assert item.loaded_columns_as_list(with_values=True) == [("id", 1), ("id_alt", 101), ("name", "Alpha")]
    assert item.loaded_columns_as_dict() == {"id": 1, "id_alt": 101, "name": "Alpha"}
    assert item.columns_as_dict() == {"id": 1, "id_alt": 101, "name": "Alpha", "description": "about Alpha"}
    assert item.loaded_columns_as_dict()["description"] == "about Alpha"  # columns_as_dict loaded it


def test_session_and_request_of_an_object(session):
    item = Item.get__by__id(session, 1)
    assert item._sqlalchemy_session is session
    assert item._pyramid_request is None  # a session outside a request
    session.info["request"] = marker = object()
    assert item._pyramid_request is marker
    session.expunge(item)
    assert item._sqlalchemy_session is None and item._pyramid_request is None
