"""The demo's routes and the methods each answers: one table, read by ``add_routes`` and by the 405 answer.

A request with a method the route does not answer gets ``405 Method Not Allowed`` with an ``Allow`` header, from a
view registered on the route without a method predicate (Pyramid tries it only when no other view matches).
"""

from __future__ import annotations

from typing import Any

from .errors import error_response

#: Item ids in URLs are ASCII digits (``\\d`` would also take other scripts' digits, which ``int()`` accepts).
ID = "{id:[0-9]+}"

#: (route name, pattern, methods answered). GET implies HEAD.
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("home", "/", ("GET",)),
    ("about", "/about", ("GET",)),
    ("search", "/search", ("GET",)),
    ("new", "/items/new", ("GET", "POST")),
    ("item", f"/items/{ID}", ("GET",)),
    ("edit", f"/items/{ID}/edit", ("GET", "POST")),
    ("adjust", f"/items/{ID}/adjust", ("POST",)),
    ("delete", f"/items/{ID}/delete", ("GET", "POST")),
    ("api_items", "/api/items", ("GET", "POST")),
    ("api_item", f"/api/items/{ID}", ("GET",)),
    ("api_adjust", f"/api/items/{ID}/adjust", ("POST",)),
)


def allowed_methods(methods: tuple[str, ...]) -> list[str]:
    return [*methods, "HEAD"] if "GET" in methods else list(methods)


def add_routes(config: Any) -> None:
    for name, pattern, methods in ROUTES:
        config.add_route(name, pattern)
        config.add_view(method_not_allowed(allowed_methods(methods)), route_name=name, require_csrf=False)


def method_not_allowed(allowed: list[str]) -> Any:
    allow = ", ".join(allowed)

    def not_allowed(request: Any) -> Any:
        response = error_response(request, 405, f"{request.method} is not allowed here; use {allow}.",
                                  allowed=allowed)
        response.headers["Allow"] = allow
        return response

    return not_allowed
