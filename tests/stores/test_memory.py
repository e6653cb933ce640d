"""MemoryStore: LRU bound, snapshots, thread safety, fork, polymorphic classes."""

from __future__ import annotations

import os
import threading

import pytest

from pyramid_polydatum.stores import MemoryStore

from .models import Automobile, Car, Item


def test_lru_evicts_the_least_recently_used():
    store = MemoryStore([Item], maxsize=4)  # two keys per item
    store.put(Item(id=1, tenant=1, slug="a"))
    store.put(Item(id=2, tenant=1, slug="b"))
    assert store.get(Item, 1) is not None  # 1 is now more recent than 2
    store.put(Item(id=3, tenant=1, slug="c"))
    assert store.get(Item, 2) is None
    assert store.get(Item, 1) is not None and store.get(Item, 3) is not None
    assert len(store) <= 4


def test_maxsize_must_be_positive():
    with pytest.raises(ValueError):
        MemoryStore([Item], maxsize=0)


def test_snapshots_are_not_aliased():
    store = MemoryStore([Item])
    item = Item(id=1, tenant=1, slug="a", name="v1")
    store.put(item)
    item.name = "mutated"
    store.get(Item, 1).name = "mutated too"
    assert store.get(Item, 1).name == "v1"


def test_concurrent_use_from_threads():
    store = MemoryStore([Item], maxsize=50)
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                store.put(Item(id=(n * 1000 + i) % 70, tenant=n, slug=str(i)))
                store.batch_get(Item, [i % 70, (i + 1) % 70])
                if i % 7 == 0:
                    store.delete_key(Item, i % 70)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store) <= 50


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_empty():
    store = MemoryStore([Item])
    store.put(Item(id=1, tenant=1, slug="a"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, b"empty" if store.get(Item, 1) is None else b"kept")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 10)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"empty"
    assert store.get(Item, 1) is not None  # the parent keeps its cache


def test_polymorphic_get_as_the_base_and_delete_removes_both():
    store = MemoryStore([Automobile, Car], polymorphic=True)
    store.put(Car(id=1, name="beetle", doors=2))
    assert isinstance(store.get(Automobile, 1), Car)
    assert store.get(Car, 1).doors == 2
    store.delete_key(Automobile, 1)
    assert store.get(Car, 1) is None and store.get(Automobile, 1) is None


def test_without_polymorphic_a_subclass_is_separate():
    store = MemoryStore([Automobile, Car])
    store.put(Car(id=1))
    assert store.get(Automobile, 1) is None


def test_evict_class_forgets_the_whole_namespace():
    store = MemoryStore([Item])
    store.batch_put([Item(id=1, tenant=1, slug="a"), Item(id=2, tenant=1, slug="b")])
    store.evict_class(Item)
    assert store.batch_get(Item, [1, 2]) == [None, None]
    store.put(Item(id=1, tenant=1, slug="a"))
    assert store.get(Item, 1) is not None


def test_the_size_bound_drops_all_keys_of_an_object_together():
    store = MemoryStore([Item], maxsize=5)  # two keys per item: the third put must drop a whole object
    for i in range(1, 7):
        store.put(Item(id=i, tenant=1, slug=f"s{i}"))
        for j in range(1, i + 1):
            by_id, by_slug = store.get(Item, j), store.get(Item, {"tenant": 1, "slug": f"s{j}"})
            assert (by_id is None) == (by_slug is None), f"item {j}: one key outlived the other"
    assert len(store) <= 5


def test_concurrent_puts_with_different_alternate_keys_stay_consistent():
    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race needs an interleaving
    inconsistent = 0
    try:
        for trial in range(300):
            store = MemoryStore([Item])
            barrier = threading.Barrier(2)
            slugs = (f"a{trial}", f"b{trial}")

            def put(slug: str, store: MemoryStore = store, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                store.put(Item(id=1, tenant=1, slug=slug))

            threads = [threading.Thread(target=put, args=(slug,)) for slug in slugs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            primary = store.get(Item, 1)
            for slug in slugs:
                found = store.get(Item, {"tenant": 1, "slug": slug})
                if found is not None and found.slug != primary.slug:
                    inconsistent += 1
                if slug != primary.slug and found is not None:
                    inconsistent += 1
    finally:
        sys.setswitchinterval(interval)
    assert inconsistent == 0
