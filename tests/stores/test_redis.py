"""RedisStore against the real server: native TTL, version prefix, serializer, and an outage as a miss."""

from __future__ import annotations

import logging
import socket

import pytest

from pyramid_polydatum.stores import PickleSerializer, RedisStore

from .models import Automobile, Car, Item


def test_native_ttl_is_set(redis_store_factory):
    store = redis_store_factory([Item], ttl=100)
    store.put(Item(id=1, tenant=1, slug="a"))
    keys = [k for k in store.client.scan_iter(match=f"{store.prefix}*") if b":state:" not in k]
    assert len(keys) == 2
    assert all(0 < store.client.pttl(k) <= 100_000 for k in keys)


def test_the_clock_decides_expiry_too(redis_store_factory):
    now = [1000.0]
    store = redis_store_factory([Item], ttl=60, clock=lambda: now[0])
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Item, 1) is not None
    now[0] += 61
    assert store.get(Item, {"tenant": 1, "slug": "a"}) is None


def test_a_new_version_never_reads_old_entries(redis_store_factory):
    old = redis_store_factory([Item], version="1")
    old.put(Item(id=1, tenant=1, slug="a"))
    new = redis_store_factory([Item], version="2")
    assert new.get(Item, 1) is None
    assert old.get(Item, 1) is not None


def test_values_are_json_not_pickle(redis_store_factory):
    store = redis_store_factory([Item])
    store.put(Item(id=1, tenant=1, slug="a", name="n"))
    (key,) = [k for k in store.client.scan_iter(match=f"{store.prefix}*") if b"id=" in k]
    assert b'"~o"' in store.client.get(key)


def test_pickle_only_when_chosen(redis_store_factory):
    store = redis_store_factory([Item], serializer=PickleSerializer())
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Item, 1) == Item(id=1, tenant=1, slug="a")


def test_a_corrupt_entry_is_a_miss(redis_store_factory):
    store = redis_store_factory([Item])
    store.put(Item(id=1, tenant=1, slug="a"))
    for key in store.client.scan_iter(match=f"{store.prefix}*"):
        store.client.set(key, b"garbage")
    assert store.get(Item, 1) is None
    assert store.errors >= 1


def test_polymorphic_and_bulk_eviction(redis_store_factory):
    store = redis_store_factory([Automobile, Car], polymorphic=True)
    store.put(Car(id=1, doors=3))
    assert store.get(Automobile, 1).doors == 3
    store.evict_class(Automobile)
    assert store.get(Car, 1) is None and store.get(Automobile, 1) is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_degrades_to_a_miss(caplog):
    pytest.importorskip("redis")
    store = RedisStore(url=f"redis://127.0.0.1:{_closed_port()}/0", classes=[Item], socket_timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="pyramid_polydatum.stores"):
        store.put(Item(id=1, tenant=1, slug="a"))
        assert store.get(Item, 1) is None
        assert store.batch_get(Item, [1, 2]) == [None, None]
        store.delete_key(Item, 1)
        store.evict(Item, [{"id": 1}])
        store.evict_class(Item)
    assert store.errors >= 1  # the first error opens the breaker: the rest do not even try
    assert store.failed_evictions >= 2
    assert "treated as a miss" in caplog.text


def test_a_lookup_error_is_still_an_error_when_redis_is_down():
    pytest.importorskip("redis")
    from pyramid_polydatum.stores import UnknownKeyError

    store = RedisStore(url=f"redis://127.0.0.1:{_closed_port()}/0", classes=[Item], socket_timeout=0.2)
    with pytest.raises(UnknownKeyError):
        store.get(Item, {"name": "x"})


def test_a_url_or_client_is_required():
    with pytest.raises(ValueError):
        RedisStore(classes=[Item])
