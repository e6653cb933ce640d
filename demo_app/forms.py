"""Validation of the item and stock forms: plain functions, errors keyed by field.

``from_params`` reads an HTML form (every value a string); ``from_json`` reads a JSON object, whose values must
already have the right type. Both leave the checks to ``validate``, which knows the columns' limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .validation import MAX_INTEGER, json_whole_number, parse_whole_number, text_error

SKU_LENGTH = 40
NAME_LENGTH = 200
DESCRIPTION_LENGTH = 5000
REASON_LENGTH = 200


@dataclass
class ItemForm:
    sku: Any = ""
    name: Any = ""
    description: Any = ""
    quantity: Any = "0"
    from_json_body: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    quantity_value: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ItemForm:
        return cls(
            sku=str(params.get("sku", "")).strip(),
            name=str(params.get("name", "")).strip(),
            description=str(params.get("description", "")).strip(),
            quantity=str(params.get("quantity", "0")).strip() or "0",
        )

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ItemForm:
        def text(key: str) -> Any:
            value = body.get(key, "")
            return value.strip() if isinstance(value, str) else value

        return cls(sku=text("sku"), name=text("name"), description=text("description"),
                   quantity=body.get("quantity", 0), from_json_body=True)

    def validate(self, with_quantity: bool = True) -> bool:
        """Types and limits; whether the SKU is free is the caller's question (see ``sku_is_free``)."""
        for name, required, limit in (("sku", True, SKU_LENGTH), ("name", True, NAME_LENGTH),
                                      ("description", False, DESCRIPTION_LENGTH)):
            problem = text_error(getattr(self, name), required=required, max_length=limit)
            if problem:
                self.errors[name] = {"Required.": f"A {'SKU' if name == 'sku' else name} is required."}.get(
                    problem, problem)
        if with_quantity:
            if self.from_json_body:
                value, problem = json_whole_number(self.quantity, minimum=0, maximum=MAX_INTEGER)
            else:
                value, problem = parse_whole_number(self.quantity, minimum=0, maximum=MAX_INTEGER)
            if problem:
                self.errors["quantity"] = problem
            else:
                self.quantity_value = value or 0
        return not self.errors

    def sku_is_free(self, taken: bool) -> bool:
        if taken:
            self.errors["sku"] = "Another item already has this SKU."
        return not taken


@dataclass
class StockForm:
    """A change of stock: a non-zero whole number and a reason."""

    delta: Any = ""
    reason: Any = ""
    from_json_body: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    delta_value: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StockForm:
        return cls(delta=str(params.get("delta", "")), reason=str(params.get("reason", "")).strip() or "manual")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> StockForm:
        reason = body.get("reason", "api")
        return cls(delta=body.get("delta"), reason=reason.strip() if isinstance(reason, str) else reason,
                   from_json_body=True)

    def validate(self) -> bool:
        if self.from_json_body:
            value, problem = json_whole_number(self.delta, minimum=-MAX_INTEGER, maximum=MAX_INTEGER)
        else:
            value, problem = parse_whole_number(self.delta, minimum=-MAX_INTEGER, maximum=MAX_INTEGER)
        if problem:
            self.errors["delta"] = problem
        elif value == 0:
            self.errors["delta"] = "A change of 0 changes nothing."
        else:
            self.delta_value = value or 0
        problem = text_error(self.reason, required=True, max_length=REASON_LENGTH)
        if problem:
            self.errors["reason"] = problem
        return not self.errors
