"""The contract every store and chain keeps, run against each backend (see ``backend`` in conftest)."""

from __future__ import annotations

import pytest

from pyramid_polydatum.stores import StoreError, UnknownKeyError


def test_put_then_get_by_every_key(backend):
    with backend.unit():
        backend.store.put(backend.make(1, tenant=7, slug="x", name="one"))
    with backend.unit():
        assert backend.store.get(backend.cls, 1).name == "one"
        assert backend.store.get(backend.cls, {"tenant": 7, "slug": "x"}).name == "one"
        assert backend.store.get(backend.cls, {"slug": "x", "tenant": 7}).name == "one"  # dict order ignored


def test_a_miss_is_none(backend):
    with backend.unit():
        assert backend.store.get(backend.cls, 404) is None
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "nope"}) is None


def test_an_undeclared_lookup_names_the_declared_keys(backend):
    with backend.unit(), pytest.raises(UnknownKeyError, match=r"id, \(tenant, slug\)"):
        backend.store.get(backend.cls, {"name": "one"})


def test_an_unregistered_class_is_refused(backend):
    class Other:
        pass

    with backend.unit(), pytest.raises(StoreError):
        backend.store.get(Other, 1)


def test_batch_get_is_aligned_with_duplicates_and_misses(backend):
    with backend.unit():
        backend.store.batch_put([backend.make(1, slug="a"), backend.make(2, slug="b")])
    with backend.unit():
        found = backend.store.batch_get(backend.cls, [2, 404, 1, 2, {"slug": "a", "tenant": 1}])
        assert [o.id if o is not None else None for o in found] == [2, None, 1, 2, 1]
        assert backend.store.batch_get(backend.cls, []) == []


def test_delete_removes_every_key(backend):
    with backend.unit():
        backend.store.put(backend.make(1, slug="a"))
    with backend.unit():
        backend.store.delete(backend.store.get(backend.cls, 1))
    with backend.unit():
        assert backend.store.get(backend.cls, 1) is None
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "a"}) is None


def test_delete_key_by_an_alternate_key(backend):
    with backend.unit():
        backend.store.put(backend.make(1, slug="a"))
    with backend.unit():
        backend.store.delete_key(backend.cls, {"tenant": 1, "slug": "a"})
    with backend.unit():
        assert backend.store.get(backend.cls, 1) is None


def test_batch_delete(backend):
    with backend.unit():
        backend.store.batch_put([backend.make(1, slug="a"), backend.make(2, slug="b"), backend.make(3, slug="c")])
    with backend.unit():
        backend.store.batch_delete(backend.store.batch_get(backend.cls, [1, 2]))
    with backend.unit():
        assert [o is None for o in backend.store.batch_get(backend.cls, [1, 2, 3])] == [True, True, False]


def test_a_changed_alternate_key_stops_finding_the_object(backend):
    with backend.unit():
        backend.store.put(backend.make(1, slug="old", name="v1"))
    with backend.unit():
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "old"}) is not None  # warm every cache
        obj = backend.store.get(backend.cls, 1)
        obj.slug = "new"
        backend.store.put(obj)
    with backend.unit():
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "old"}) is None
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "new"}).id == 1


def test_an_update_is_seen_under_every_key(backend):
    with backend.unit():
        backend.store.put(backend.make(1, slug="a", name="v1"))
    with backend.unit():
        backend.store.get(backend.cls, {"tenant": 1, "slug": "a"})
        obj = backend.store.get(backend.cls, 1)
        obj.name = "v2"
        backend.store.put(obj)
    with backend.unit():
        assert backend.store.get(backend.cls, 1).name == "v2"
        assert backend.store.get(backend.cls, {"tenant": 1, "slug": "a"}).name == "v2"
