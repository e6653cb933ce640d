"""Error answers: JSON under ``/api/``, the layout's error page elsewhere, always with a message.

Views return these for bad input (the unit of work stays a success: nothing was written, and the audit says
"ok"); exception views render the same for errors raised on the way (a missing item, a bad CSRF token, a
conflict the database found), and pyramid_tm aborts the transaction then.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPNotFound, status_map
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import exception_view_config, notfound_view_config
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("demo_app")


def is_api(request: Any) -> bool:
    return bool(request.path.startswith("/api/"))


def error_response(request: Any, status: int, message: str, **extra: Any) -> Response:
    """``status`` with ``message``: ``{"error": message, ...extra}`` for the API, an HTML page otherwise."""
    if is_api(request):
        response = Response(json_body={"error": message, **extra}, status=status)
    else:
        response = render_to_response("demo_app:templates/error.mako",
                                      {"status": status, "heading": status_map[status].title, "message": message},
                                      request=request)
        response.status = status
    return response


class Missing(HTTPNotFound):
    """What a view raises for a thing that does not exist; its detail is the message shown."""


@notfound_view_config(append_slash=True)
def not_found(error: HTTPNotFound, request: Any) -> Response:
    """Pyramid's own 404 (no route matched) says where; a view's ``Missing`` says what."""
    message = str(error.detail) if isinstance(error, Missing) else f"There is nothing at {request.path}."
    return error_response(request, 404, message)


@exception_view_config(HTTPException)
def http_error(error: HTTPException, request: Any) -> Any:
    """An HTTP error raised by a view or by Pyramid (a bad CSRF token is a 400), with its message."""
    if error.status_code < 400:
        return error
    if isinstance(error, BadCSRFToken):
        message = "This form was not sent by this site's page, or the page is too old: reload it and try again."
    else:
        message = str(error.detail or error.explanation)
    response = error_response(request, error.status_code, message)
    for name in ("Allow", "WWW-Authenticate", "Retry-After"):
        if name in error.headers:
            response.headers[name] = error.headers[name]
    return response


@exception_view_config(UnicodeDecodeError)
def not_utf8(error: UnicodeDecodeError, request: Any) -> Response:
    """WebOb decodes the query string and form bodies on first access: bytes that are not UTF-8 fail there.

    Any other UnicodeDecodeError is the app's own bug and stays a 500.
    """
    try:
        list(request.GET.items())
        list(request.POST.items())
    except UnicodeDecodeError:
        return error_response(request, 400, "The request's parameters are not valid UTF-8 text.")
    raise error


def search_text(request: Any) -> str:
    """``?q=`` for the layout's search box; empty when it cannot be decoded (the error page must still render)."""
    try:
        return str(request.GET.get("q", ""))
    except UnicodeDecodeError:
        return ""


@exception_view_config(Exception, path_info=r"^/api/")
def api_failure(error: Exception, request: Any) -> Response:
    """An unexpected failure of the API (a failed commit included) is still JSON; the traceback goes to the log.

    HTML pages keep Pyramid's (and in development the debug toolbar's) handling of errors.
    """
    log.error("%s %s failed", request.method, request.path_qs, exc_info=error)
    return error_response(request, 500, "The server failed to answer this request; the error is logged.")


@exception_view_config(IntegrityError)
def conflict(error: IntegrityError, request: Any) -> Response:
    """The database refused a write its checks let through (two requests took the same SKU at once)."""
    return error_response(request, 409, "The change conflicts with data stored meanwhile; reload and try again.")
