"""The demo's data operations, reached as ``request.dal.items...``."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from pyramid_polydatum import NotFound, Service

from .models import Item, StockMovement

PAGE_SIZE = 50


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (``%`` and ``_`` typed by a user are not wildcards)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class StockService(Service):
    """Nested under ``items``: ``request.dal.items.stock.adjust(...)``."""

    def adjust(self, item_id: int, delta: int, reason: str) -> Item:
        item = self._ctx.db.writer.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id}")
        if item.quantity + delta < 0:
            raise ValueError(f"only {item.quantity} in stock")
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

    def list(self, offset: int = 0) -> list[Item]:
        query = select(Item).order_by(Item.name, Item.id).offset(offset).limit(PAGE_SIZE)
        return list(self._ctx.db.any.scalars(query))

    def count(self) -> int:
        return self._ctx.db.any.scalar(select(func.count()).select_from(Item)) or 0

    def search(self, text: str) -> list[Item]:
        pattern = like_pattern(text.strip().lower())
        query = (
            select(Item)
            .where(or_(func.lower(Item.name).like(pattern, escape="\\"),
                       func.lower(Item.sku).like(pattern, escape="\\")))
            .order_by(Item.name)
            .limit(PAGE_SIZE)
        )
        return list(self._ctx.db.any.scalars(query))

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
