"""``pshell demo_app/development.ini``: the request's DAL and transaction manager at hand.

The cookiecutter's shape: ``request.tm`` is the one transaction of the shell's request, so writes go inside it::

    >>> with tm:
    ...     dal.items.create("CLAMP-1", "Clamp", "", 5)
"""

from __future__ import annotations

from typing import Any

from . import models


def setup(env: dict[str, Any]) -> None:
    request = env["request"]
    env["tm"] = request.tm
    env["dal"] = request.dal
    env["models"] = models
