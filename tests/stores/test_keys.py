"""Declared keys: checked at configuration, typed, namespaced per class."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyramid_polydatum.stores import MemoryStore, SQLAlchemyStore, UnknownKeyError
from pyramid_polydatum.stores.keys import KeySpec

from .models import Empty, Item, Row


def test_a_typo_in_the_keys_fails_at_registration():
    @dataclass
    class Bad:
        __store_keys__ = ["id", ("tenant", "slgu")]
        id: int
        tenant: int

    with pytest.raises(UnknownKeyError, match="slgu"):
        MemoryStore([Bad])


def test_stockpyle_keys_are_read():
    assert KeySpec.for_class(Empty).keys == [("id",)]


def test_a_mapped_class_defaults_to_its_primary_key():
    assert KeySpec.for_class(Row).keys[0] == ("id",)


def test_a_plain_class_without_keys_is_refused():
    class Plain:
        pass

    with pytest.raises(UnknownKeyError):
        MemoryStore([Plain], copy=False)


def test_sqlalchemy_store_checks_at_construction():
    with pytest.raises(Exception, match="not a mapped"):
        SQLAlchemyStore(None, [Item])  # type: ignore[arg-type]


def test_keys_are_typed():
    store = MemoryStore([Item])
    store.put(Item(id=123, tenant=1, slug="a"))
    assert store.get(Item, 123) is not None
    assert store.get(Item, "123") is None
    store.put(Item(id=True, tenant=2, slug="b"))
    assert store.get(Item, 1) is None
    assert store.get(Item, True).id is True


def test_two_classes_with_the_same_key_never_collide():
    @dataclass
    class Other:
        __store_keys__ = ["id"]
        id: int

    store = MemoryStore([Item, Other])
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Other, 1) is None


def test_a_tuple_lookup_means_the_compound_key():
    store = MemoryStore([Item])
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Item, (1, "a")).id == 1


def test_a_falsy_object_is_stored_and_found():
    store = MemoryStore([Empty])
    store.put(Empty(5))
    found = store.get(Empty, 5)
    assert found is not None and found.id == 5
