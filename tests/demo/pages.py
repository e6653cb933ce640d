"""Reading the demo's HTML pages in tests."""

from __future__ import annotations

import re


def csrf_token(page) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)


def alerts(page) -> list[str]:
    """The texts of the page's error messages (``role="alert"``), whitespace collapsed."""
    return [" ".join(tag.get_text().split()) for tag in page.html.find_all(attrs={"role": "alert"})]
