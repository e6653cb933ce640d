"""The demo's data operations, reached as ``request.dal.items...``."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from pyramid_polydatum import NotFound, Service, ServiceError

from .models import Item, StockMovement
from .validation import MAX_INTEGER

PAGE_SIZE = 50


class StockConflict(ServiceError):
    """The change would take the stock below zero or past what the column holds."""


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items, and where it sits among ``total`` items."""

    items: list[Item]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)

    @property
    def first(self) -> int:
        """The 1-based position of the first item shown (0 when there is none)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / size))


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (``%`` and ``_`` typed by a user are not wildcards)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(text: str) -> ColumnElement[bool]:
    pattern = like_pattern(text.strip().lower())
    return or_(func.lower(Item.name).like(pattern, escape="\\"), func.lower(Item.sku).like(pattern, escape="\\"))


class StockService(Service):
    """Nested under ``items``: ``request.dal.items.stock.adjust(...)``."""

    def adjust(self, item_id: int, delta: int, reason: str) -> Item:
        item = self._ctx.db.writer.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id}")
        if item.quantity + delta < 0:
            raise StockConflict(f"only {item.quantity} in stock")
        if item.quantity + delta > MAX_INTEGER:
            raise StockConflict(f"{item.quantity} in stock: at most {MAX_INTEGER - item.quantity} more fit")
        item.quantity += delta
        item.movements.append(StockMovement(delta=delta, reason=reason))
        self._ctx.db.writer.flush()
        self._ctx.memo[("item", item.id)] = item  # later reads in this request see the write
        return item


class ItemService(Service):
    def __init__(self) -> None:
        super().__init__()
        self.register_services(stock=StockService())

    def get(self, item_id: int) -> Item | None:
        """The item, or None; read from the writer once this request wrote (read-your-writes)."""
        memo = self._ctx.memo
        key = ("item", item_id)
        if key not in memo:
            memo[key] = self._ctx.db.any.get(Item, item_id)
        return memo[key]

    def page(self, number: int = 1, text: str = "") -> Page | None:
        """Page ``number`` (1-based) of the items, or of those whose name or SKU contains ``text``.

        None when there is no such page (page 1 always exists, empty or not).
        """
        condition = _matching(text) if text.strip() else None
        counting = select(func.count()).select_from(Item)
        total = self._ctx.db.any.scalar(counting if condition is None else counting.where(condition)) or 0
        if not 1 <= number <= page_count(total):
            return None
        query = select(Item).order_by(Item.name, Item.id).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        if condition is not None:
            query = query.where(condition)
        return Page(list(self._ctx.db.any.scalars(query)), total, number)

    def count(self) -> int:
        return self._ctx.db.any.scalar(select(func.count()).select_from(Item)) or 0

    def sku_taken(self, sku: str, except_id: int | None = None) -> bool:
        query = select(Item.id).where(Item.sku == sku)
        if except_id is not None:
            query = query.where(Item.id != except_id)
        return self._ctx.db.any.scalar(query) is not None

    def create(self, sku: str, name: str, description: str, quantity: int) -> Item:
        item = Item(sku=sku, name=name, description=description, quantity=0)
        self._ctx.db.writer.add(item)
        self._ctx.db.writer.flush()
        if quantity:
            self.stock.adjust(item.id, quantity, "initial stock")
        self._ctx.memo[("item", item.id)] = item
        return item

    def update(self, item_id: int, sku: str, name: str, description: str) -> Item:
        item = self._ctx.db.writer.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id}")
        item.sku, item.name, item.description = sku, name, description
        self._ctx.db.writer.flush()
        self._ctx.memo[("item", item.id)] = item
        return item

    def delete(self, item_id: int) -> None:
        item = self._ctx.db.writer.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id}")
        self._ctx.db.writer.delete(item)
        self._ctx.memo.pop(("item", item_id), None)
