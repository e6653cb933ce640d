"""Validation of the item form: plain functions, errors keyed by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ItemForm:
    sku: str = ""
    name: str = ""
    description: str = ""
    quantity: str = "0"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ItemForm:
        return cls(
            sku=str(params.get("sku", "")).strip(),
            name=str(params.get("name", "")).strip(),
            description=str(params.get("description", "")).strip(),
            quantity=str(params.get("quantity", "0")).strip() or "0",
        )

    def validate(self, sku_taken: bool, with_quantity: bool = True) -> bool:
        if not self.sku:
            self.errors["sku"] = "A SKU is required."
        elif len(self.sku) > 40:
            self.errors["sku"] = "At most 40 characters."
        elif sku_taken:
            self.errors["sku"] = "Another item already has this SKU."
        if not self.name:
            self.errors["name"] = "A name is required."
        elif len(self.name) > 200:
            self.errors["name"] = "At most 200 characters."
        if with_quantity:
            try:
                if int(self.quantity) < 0:
                    self.errors["quantity"] = "Cannot be negative."
            except ValueError:
                self.errors["quantity"] = "A whole number, please."
        return not self.errors

    @property
    def quantity_value(self) -> int:
        return int(self.quantity)
