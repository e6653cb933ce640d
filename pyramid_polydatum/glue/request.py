"""One context per request, owned by the request: opened on first access to ``request.dal``, ended by the tween.

The request owns its context. ``request.dal`` is bound to it, so a view's work reaches the request's context from
any thread (a thread pool shared by requests included), and the context is never put on a thread's stack where
another request could find it. ``request.tm`` is its transaction wherever a request exists: pyramid_tm's tween
begins and commits it for served requests; scripts and shells commit it themselves (``with request.tm:``).
Ending the context never commits a joined session.

Who ends the context:

- the include's tween, for a context opened while the request passed through it (the usual case), with the
  request's real error: the one that escaped the app, or the one an exception view rendered;
- a finished callback (``request.add_finished_callback``) for a context first opened outside the tween: in a
  response callback or ``NewResponse`` subscriber, in ``pshell``/``bootstrap``/``prepare`` (their closer runs the
  finished callbacks), or on a test's request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..core.context import DataAccessContext
from ..core.errors import ContextStateError
from ..core.manager import DataManager
from ..core.meta import Meta
from .interfaces import IDataManager

log = logging.getLogger("pyramid_polydatum")

#: The request attribute holding the request's context once it exists (read by tooling; never creates one).
CONTEXT_ATTR = "polydatum_context"
#: Set in ``request.__dict__`` while the include's tween is handling the request: it will end the context.
_IN_TWEEN = "pyramid_polydatum.in_tween"

MetaFactory = Callable[[Any], Mapping[str, Any]]


def request_context(request: Any) -> DataAccessContext | None:
    """The request's context if ``request.dal`` was used, else None (never creates one)."""
    return request.__dict__.get(CONTEXT_ATTR)  # type: ignore[no-any-return]


def build_meta(request: Any, meta_factory: MetaFactory | None) -> Meta:
    """Meta of a request context: the request, its identity (lazily), ``request.tm``, and the factory's extras.

    The identity is computed on first read, so a security policy that loads the user through ``request.dal``
    works; it then runs inside the request's context.
    """
    values: dict[str, Any] = {
        "request": request,
        "identity": Meta.lazy(lambda: request.identity),
        "authenticated_userid": Meta.lazy(lambda: request.authenticated_userid),
        "transaction_manager": getattr(request, "tm", None),
    }
    if meta_factory is not None:
        values.update(meta_factory(request))
    return Meta(values)


def make_request_dal(data_manager: DataManager, meta_factory: MetaFactory | None) -> Callable[[Any], Any]:
    """The ``request.dal`` reified method: open the request's context and make sure something ends it."""

    def request_dal(request: Any) -> Any:
        context = data_manager.context(meta=build_meta(request, meta_factory)).open()
        request.__dict__[CONTEXT_ATTR] = context
        if not request.__dict__.get(_IN_TWEEN):
            request.add_finished_callback(_end_in_finished_callback)
        return context.dal

    return request_dal


def make_request_session(dal_method: str, sessions_name: str) -> Callable[[Any], Any]:
    """``request.dbsession`` (``polydatum.request_session``): the request context's writer session.

    The cookiecutter's shape for apps that move over: the same session as ``request.dal``'s ``ctx.db.writer``
    (the request in ``session.info``, joined to ``request.tm``), opened on first use and ended with the request.
    """

    def request_session(request: Any) -> Any:
        getattr(request, dal_method)  # opens the request's context
        context = request_context(request)
        assert context is not None
        return getattr(context, sessions_name).writer

    return request_session


def end_request_context(request: Any, error: BaseException | None) -> None:
    """End the request's context (if it has one still open) with ``error``; failures are logged, never raised.

    By then the response is made and pyramid_tm has committed or aborted: what fails here (a middleware's
    teardown, closing a session) can no longer change the response, so it is logged with the request's method and
    path rather than raised over the real outcome.
    """
    context = request_context(request)
    if context is None or context.state == "exited":
        return
    try:
        final = context.close(error)
    except Exception:
        log.exception("ending the data context of %s %s failed", request.method, request.path_qs)
        return
    if final is not None and final is not error:
        log.error(
            "the data context of %s %s failed while ending, after the response was made",
            request.method, request.path_qs, exc_info=final,
        )


def _end_in_finished_callback(request: Any) -> None:
    end_request_context(request, getattr(request, "exception", None))


def polydatum_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """The include's tween, over pyramid_tm and the exception views: it ends the request's context.

    Placed over pyramid_tm, it ends the context after the commit or abort, with the error the request really
    ended with: the one that escaped (``request.exception`` is None again when no exception view handled it) or
    the one an exception view rendered, a failed commit included.
    """
    manager: DataManager = registry.getUtility(IDataManager)

    def polydatum_tween(request: Any) -> Any:
        attributes = request.__dict__
        attributes[_IN_TWEEN] = True
        stack = manager._stack.get()  # this thread's contexts: the request's own is never among them
        try:
            response = handler(request)
        except BaseException as error:
            del attributes[_IN_TWEEN]
            _close_contexts_left_open(manager, stack)
            end_request_context(request, error)
            raise
        del attributes[_IN_TWEEN]
        if manager._stack.get() is not stack:
            _close_contexts_left_open(manager, stack)
        if CONTEXT_ATTR in attributes:
            end_request_context(request, getattr(request, "exception", None))
        return response

    return polydatum_tween


def _close_contexts_left_open(manager: DataManager, before: tuple[DataAccessContext, ...]) -> None:
    """Contexts a view entered on this thread and never left would be found by the next request on it."""
    while True:
        stack = manager.active_contexts
        if len(stack) <= len(before):
            return
        top = stack[-1]
        log.error("a data context entered during the request was never exited; closing it: %r", top)
        top.close(ContextStateError("context left open at the end of the request"))
