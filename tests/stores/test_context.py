"""The per-context store: one identity cache per context, gone when it ends."""

from __future__ import annotations

from pyramid_polydatum import DataManager
from pyramid_polydatum.stores import ContextLayer, context_store_resource

from .models import Item


def test_each_context_has_its_own_cache():
    dm = DataManager().register_resources(cache=context_store_resource([Item]))
    layer = ContextLayer(dm, "cache", [Item])
    item = Item(id=1, tenant=1, slug="a")
    with dm.context():
        layer.put(item)
        assert layer.get(Item, {"tenant": 1, "slug": "a"}) is item  # identity, not a copy
    with dm.context():
        assert layer.get(Item, 1) is None


def test_outside_a_context_it_is_empty():
    dm = DataManager().register_resources(cache=context_store_resource([Item]))
    layer = ContextLayer(dm, "cache", [Item])
    layer.put(Item(id=1, tenant=1, slug="a"))
    assert layer.get(Item, 1) is None
    assert layer.batch_get(Item, [1, 2]) == [None, None]
