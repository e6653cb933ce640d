"""One context per request: created on first access to ``request.dal``, ended by a finished callback.

The writer's commit does not happen here: pyramid_tm commits inside its tween, before the response leaves, and
renders the app's error view if the commit fails. The finished callback only ends the context (middleware and
resource teardown, closing the sessions), with the request's real error thrown in.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from pyramid.httpexceptions import HTTPNotFound

from ..core.errors import ContextStateError
from ..core.manager import DataManager
from ..core.meta import Meta
from .settings import as_identifier_or_off

log = logging.getLogger("pyramid_polydatum")

#: The request attribute holding the request's context once it exists (read by tooling; never creates one).
CONTEXT_ATTR = "polydatum_context"
#: The request attribute where the tween records an error that escaped the app.
ERROR_ATTR = "polydatum_error"

MetaFactory = Callable[[Any], Mapping[str, Any]]


def request_context(request: Any) -> Any:
    """The request's context if ``request.dal`` was used, else None (never creates one)."""
    return request.__dict__.get(CONTEXT_ATTR)


def build_meta(request: Any, use_transaction_manager: bool, meta_factory: MetaFactory | None) -> Meta:
    """Meta of a request context: the request, its identity (lazily), the transaction manager, and extras.

    The identity is computed on first read, so a security policy that loads the user through ``request.dal``
    works; it then runs inside the request's context.
    """
    values: dict[str, Any] = {
        "request": request,
        "identity": Meta.lazy(lambda: request.identity),
        "authenticated_userid": Meta.lazy(lambda: request.authenticated_userid),
    }
    if use_transaction_manager and request.environ.get("tm.active"):
        values["transaction_manager"] = request.tm
    if meta_factory is not None:
        values.update(meta_factory(request))
    return Meta(values)


def make_request_dal(
    data_manager: DataManager, use_transaction_manager: bool, meta_factory: MetaFactory | None
) -> Callable[[Any], Any]:
    """The ``request.dal`` reified method: enter a context for this request and make sure it ends."""

    def request_dal(request: Any) -> Any:
        context = data_manager.context(meta=build_meta(request, use_transaction_manager, meta_factory))
        context.__enter__()
        request.__dict__[CONTEXT_ATTR] = context
        _end_first(request)
        return context.dal

    return request_dal


def _end_first(request: Any) -> None:
    """Make ending the context the first finished callback.

    Pyramid stops running finished callbacks at the first one that raises: the context must not depend on the
    app's callbacks being well-behaved, or its connections would stay checked out. Registered when ``request.dal``
    is first touched, so a request that never touches it pays nothing.
    """
    callbacks = getattr(request, "finished_callbacks", None)
    if isinstance(callbacks, deque):
        callbacks.appendleft(end_request_context)
    else:
        request.add_finished_callback(end_request_context)


def end_request_context(request: Any) -> None:
    """Finished callback: end the request's context with the error the request really ended with.

    ``request.exception`` is None again when a view raised and no exception view handled it, so the error
    recorded by the tween comes first. Nothing raised here reaches the client (the response is gone): errors are
    logged.
    """
    context = request_context(request)
    if context is None or context.state == "exited":
        return
    error = request.__dict__.get(ERROR_ATTR) or getattr(request, "exception", None)
    manager = context.data_manager
    try:
        _close_contexts_left_open(manager, context)
        final = context.close(error)
    except Exception:
        log.exception("ending the data context of %s %s failed", request.method, request.path_qs)
        return
    if final is not None and final is not error:
        log.error(
            "the data context of %s %s failed while ending, after the response was made",
            request.method, request.path_qs, exc_info=final,
        )


def _close_contexts_left_open(manager: DataManager, context: Any) -> None:
    """Contexts a view entered and never left would keep this thread's stack dirty for the next request."""
    while True:
        top = manager.get_active_context()
        if top is None or top is context or context not in manager.active_contexts:
            return
        log.error("a data context entered during the request was never exited; closing it: %r", top)
        top.close(ContextStateError("context left open at the end of the request"))


def polydatum_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """The include's tween, over pyramid_tm and the exception views.

    - It records an error that escapes the app, for the context's end.
    - When the request's sessions run their own transaction (pyramid_tm off, or not active for this request), it
      commits that transaction here, before the response leaves; a failing commit is rendered by the app's
      exception views like any error, never hidden behind a 200.
    """
    sessions_name = as_identifier_or_off(registry.settings.get("polydatum.sessions", "db"))

    def polydatum_tween(request: Any) -> Any:
        try:
            response = handler(request)
        except BaseException as error:
            request.__dict__[ERROR_ATTR] = error
            _tag_retryable(request, sessions_name, error)
            raise
        if sessions_name is not None:
            response = _commit_owned_transaction(request, sessions_name, response)
        return response

    return polydatum_tween


def _commit_owned_transaction(request: Any, sessions_name: str, response: Any) -> Any:
    context = request_context(request)
    if context is None or context.state != "active" or sessions_name not in context:
        return response
    sessions = getattr(context, sessions_name)
    if not sessions.owns_open_transaction:
        return response
    # an exception view rendered this response: the view failed, nothing of it may be committed
    error = getattr(request, "exception", None)
    if error is not None:
        _tag_retryable(request, sessions_name, error)
    try:
        sessions.finish(error)
    except Exception as commit_error:  # noqa: BLE001 - any commit failure is rendered as the app's error
        request.__dict__[ERROR_ATTR] = commit_error
        _tag_retryable(request, sessions_name, commit_error)
        try:
            return request.invoke_exception_view(sys.exc_info())
        except HTTPNotFound:
            raise commit_error from None
    return response


def _tag_retryable(request: Any, sessions_name: str | None, error: BaseException) -> None:
    """Without pyramid_tm, mark a serialization failure or deadlock retryable for pyramid_retry, as it would."""
    context = request_context(request)
    if sessions_name is None or context is None or context.state != "active" or sessions_name not in context:
        return
    sessions = getattr(context, sessions_name)
    if not sessions.owns_open_transaction:
        return
    try:
        from pyramid_retry import IRetryableError
    except ImportError:
        return
    import zope.interface

    if sessions.transaction_manager.get().isRetryableError(error):
        zope.interface.alsoProvides(error, IRetryableError)
