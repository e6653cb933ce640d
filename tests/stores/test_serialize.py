"""The JSON serializer: explicit types only, no code on load; pickle only by choice."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pyramid_polydatum.stores import JsonSerializer, PickleSerializer, SerializationError

from .models import Item, Rich, Row


def test_round_trip_of_the_explicit_types():
    s = JsonSerializer([Rich])
    value = {
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "day": date(2026, 1, 2),
        "span": timedelta(days=1, seconds=3),
        "price": Decimal("1.10"), "id": uuid.uuid4(), "blob": b"\x00\xff", "tuple": (1, "a"), "list": [1.5, None],
        "obj": Rich(id=1, when=datetime(2026, 1, 1, tzinfo=UTC), price=Decimal("2"), blob=b"x", tags=("a",)),
    }
    assert s.loads(s.dumps(value)) == value


def test_unregistered_classes_are_refused_both_ways():
    with pytest.raises(SerializationError):
        JsonSerializer().dumps(Item(id=1, tenant=1, slug="a"))
    data = JsonSerializer([Item]).dumps(Item(id=1, tenant=1, slug="a"))
    with pytest.raises(SerializationError):
        JsonSerializer().loads(data)


def test_mapped_instances_come_back_transient():
    from sqlalchemy import inspect

    s = JsonSerializer([Row])
    row = s.loads(s.dumps(Row(id=1, tenant=2, slug="a", name="n")))
    assert (row.id, row.tenant, row.slug, row.name) == (1, 2, "a", "n")
    assert inspect(row).transient


def test_pickle_is_an_explicit_choice():
    s = PickleSerializer()
    assert s.loads(s.dumps(Item(id=1, tenant=1, slug="a"))) == Item(id=1, tenant=1, slug="a")
