"""Lifetimes: seconds, timedelta, aware datetime; a store ttl and a per-object callback; an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pyramid_polydatum.stores import MemoryStore, deadline

from .models import Item


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "lifetime", [0, -1, float("nan"), float("inf"), True, "10", timedelta(0), datetime(2030, 1, 1)]
)
def test_invalid_lifetimes_raise_value_error(lifetime):
    with pytest.raises(ValueError):
        deadline(lifetime, 0.0)


def test_an_invalid_store_ttl_fails_at_configuration():
    with pytest.raises(ValueError):
        MemoryStore([Item], ttl=-5)


@pytest.mark.parametrize("ttl", [10, 10.0, timedelta(seconds=10)])
def test_store_ttl_expires_under_every_key(ttl):
    clock = Clock()
    store = MemoryStore([Item], ttl=ttl, clock=clock)
    store.put(Item(id=1, tenant=1, slug="a"))
    clock.now += 9
    assert store.get(Item, {"tenant": 1, "slug": "a"}) is not None
    clock.now += 1
    assert store.get(Item, 1) is None
    assert store.get(Item, {"tenant": 1, "slug": "a"}) is None


def test_per_object_lifetime_with_an_absolute_datetime():
    clock = Clock()
    ends = datetime.fromtimestamp(clock.now + 30, tz=UTC)
    store = MemoryStore([Item], ttl=5, lifetime=lambda obj: ends if obj.name == "long" else None, clock=clock)
    store.put(Item(id=1, tenant=1, slug="a", name="long"))
    store.put(Item(id=2, tenant=1, slug="b"))
    clock.now += 10
    assert store.get(Item, 1) is not None
    assert store.get(Item, 2) is None
    clock.now += 20
    assert store.get(Item, 1) is None


def test_an_invalid_object_lifetime_raises():
    store = MemoryStore([Item], lifetime=lambda obj: -3)
    with pytest.raises(ValueError):
        store.put(Item(id=1, tenant=1, slug="a"))


def test_a_lifetime_already_over_stores_nothing():
    clock = Clock()
    past = datetime.fromtimestamp(clock.now - 1, tz=UTC)
    store = MemoryStore([Item], lifetime=lambda obj: past, clock=clock)
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Item, 1) is None
