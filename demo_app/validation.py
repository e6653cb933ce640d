"""Checks every input passes before it reaches the database: a bad value is a message, never a driver error.

The limits are the schema's: ``INTEGER`` is 32 bits on PostgreSQL (SQLite would take 64, the demo keeps to the
smaller), ``String(n)`` columns hold ``n`` characters, and PostgreSQL refuses a NUL character in any text.
Values from HTML forms are strings; values from the JSON API must already have the right JSON type (``1.9``,
``true`` or ``"3"`` are not whole numbers there, a list is not a string).
"""

from __future__ import annotations

import re

#: The largest value of an ``INTEGER`` column on PostgreSQL (and of an item id).
MAX_INTEGER = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def text_error(value: object, *, required: bool = False, max_length: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if not isinstance(value, str):
        return "Must be a string."
    if "\x00" in value:
        return "Cannot contain a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Is not valid Unicode text."
    if required and not value:
        return "Required."
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters."
    return None


def parse_whole_number(text: str, *, minimum: int, maximum: int) -> tuple[int | None, str | None]:
    """A form field's whole number within the bounds: ``(value, None)`` or ``(None, message)``."""
    text = text.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None, "A whole number, please."
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 18:  # far past any column; int() of thousands of digits would be slow, then refused
        return _bounded(minimum - 1 if negative else maximum + 1, minimum, maximum)
    return _bounded(-int(digits) if negative else int(digits), minimum, maximum)


def json_whole_number(value: object, *, minimum: int, maximum: int) -> tuple[int | None, str | None]:
    """A JSON value that must be an integer (not a boolean, a float or a string)."""
    if type(value) is not int:
        return None, "A whole number (a JSON integer), please."
    return _bounded(value, minimum, maximum)


def _bounded(value: int, minimum: int, maximum: int) -> tuple[int | None, str | None]:
    if value < minimum:
        return None, f"At least {minimum}." if minimum else "Cannot be negative."
    if value > maximum:
        return None, f"At most {maximum}."
    return value, None


def item_id(text: str) -> int | None:
    """The item id in a URL (the route allows only digits), or None when no item can have it."""
    if len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_INTEGER else None
