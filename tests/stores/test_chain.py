"""ChainedStore: top-down reads with backfill, only missing keys asked below, writes to the last layer first."""

from __future__ import annotations

import pytest

from pyramid_polydatum.stores import ChainedStore, MemoryStore

from .models import Empty, Item


class Recording(MemoryStore):
    """A memory store that records what it was asked and written, in order."""

    def __init__(self, name: str, log: list, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name, self.log = name, log

    def read(self, cls, keys):  # a chain passes resolved keys down: (names, values)
        self.log.append((self.name, "get", [values[0] for _names, values in keys]))
        return super().read(cls, keys)

    def put(self, obj):
        self.log.append((self.name, "put", obj.id))
        super().put(obj)

    def fill(self, objs, token, deadlines):
        self.log.extend((self.name, "put", obj.id) for obj in objs)
        super().fill(objs, token, deadlines)


def make(log):
    return [Recording(name, log, [Item, Empty]) for name in ("top", "middle", "bottom")]


def test_first_hit_wins_and_backfills_the_layers_above():
    log: list = []
    top, middle, bottom = make(log)
    chain = ChainedStore([top, middle, bottom])
    middle.put(Item(id=1, tenant=1, slug="a", name="middle"))
    bottom.put(Item(id=1, tenant=1, slug="a", name="bottom"))
    assert chain.get(Item, 1).name == "middle"
    assert top.get(Item, {"tenant": 1, "slug": "a"}).name == "middle"


def test_a_falsy_object_is_a_hit():
    log: list = []
    top, middle, bottom = make(log)
    chain = ChainedStore([top, middle, bottom])
    bottom.put(Empty(3))
    log.clear()
    found = chain.get(Empty, 3)
    assert found is not None and not found
    assert top.get(Empty, 3) is not None


def test_batch_get_asks_lower_layers_only_for_missing_keys():
    log: list = []
    top, middle, bottom = make(log)
    chain = ChainedStore([top, middle, bottom])
    top.put(Item(id=1, tenant=1, slug="a"))
    middle.put(Item(id=2, tenant=1, slug="b"))
    bottom.put(Item(id=3, tenant=1, slug="c"))
    log.clear()
    found = chain.batch_get(Item, [1, 2, 3, 4, 2])
    assert [o.id if o else None for o in found] == [1, 2, 3, None, 2]
    gets = [entry for entry in log if entry[1] == "get"]
    assert gets == [("top", "get", [1, 2, 3, 4]), ("middle", "get", [2, 3, 4]), ("bottom", "get", [3, 4])]
    assert chain.batch_get(Item, []) == []


def test_writes_go_to_the_last_layer_first():
    log: list = []
    chain = ChainedStore(make(log))
    chain.put(Item(id=1, tenant=1, slug="a"))
    assert [entry[0] for entry in log if entry[1] == "put"] == ["bottom", "middle", "top"]


def test_delete_goes_through_every_layer():
    log: list = []
    top, middle, bottom = make(log)
    chain = ChainedStore([top, middle, bottom])
    chain.put(Item(id=1, tenant=1, slug="a"))
    chain.delete_key(Item, {"slug": "a", "tenant": 1})
    assert [layer.get(Item, 1) for layer in (top, middle, bottom)] == [None, None, None]


def test_a_chain_needs_a_layer():
    with pytest.raises(ValueError):
        ChainedStore([])
