"""DataAccessContext: the state of one unit of work (an HTTP request, a task, a script run).

Lifecycle:

1. ``__enter__`` pushes the context on its manager's stack (the calling thread's or task's active context) and
   sets up every middleware in registration order. ``open()`` does the same without making it the active context
   of the calling thread: for an owner such as a web request, whose work may run in any thread and reaches the
   context through ``ctx.dal`` (a DAL bound to this context) rather than through a thread's stack.
2. The body runs; resources are created on first access and cached for the rest of the context.
3. ``__exit__`` throws the body's error (if any) into each middleware in reverse order. A middleware may replace
   the error by raising another one, but it cannot make it vanish.
4. Resources that end the unit of work (a value with ``__polydatum_finish__``: the sessions, which commit there)
   are finished with the error so far; one that raises replaces it. Then resources are torn down in reverse
   creation order with the final error thrown in. Their own teardown errors
   are logged and kept (``get_resource_exit_errors()``), never raised.
5. The context leaves the stack. It cannot be entered again.

While its own middleware and resources are set up and torn down, and during every call made through its bound
``ctx.dal``, a context is the active one of the thread doing the work, so code that asks the manager for the
active context (``self._ctx`` in a service, a store) finds it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from time import perf_counter
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .dal import BoundDAL
from .errors import ContextStateError, InvalidMiddleware, MiddlewareSetupException, ResourceSetupException
from .meta import Meta
from .record import RECORD_HOOK, ContextRecord, ErrorInfo, Step
from .resources import FINISH_HOOK, describe

if TYPE_CHECKING:
    from .manager import DataManager

log = logging.getLogger("pyramid_polydatum")

CREATED = "created"
SETUP = "setup"  # middleware are being set up
ACTIVE = "active"
CLOSING = "closing"  # middleware are being torn down; resources may still be created
RELEASING = "releasing"  # resources are being torn down
EXITED = "exited"

_CAN_CREATE = frozenset({SETUP, ACTIVE, CLOSING})
_CAN_READ = frozenset({SETUP, ACTIVE, CLOSING, RELEASING})

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class DataAccessContext:
    """One unit of work of a ``DataManager``; single use, entered with ``with``."""

    _data_manager: DataManager
    _meta: Meta
    _state: str
    _resources: dict[str, Any]
    _creating: set[str]
    _resource_generators: list[tuple[str, Generator[Any, None, None], Step]]
    _middleware_generators: list[tuple[str, Generator[Any, None, None], Step]]
    _exit_errors: list[ExcInfo]
    _finishers: list[Any]
    _record: ContextRecord
    _error: BaseException | None
    _pushed: bool
    _bound_dal: BoundDAL | None

    def __init__(self, data_manager: DataManager, meta: Meta | dict[str, Any] | None = None) -> None:
        # one dictionary update instead of a dozen trips through __setattr__: a context is made per request
        self.__dict__.update(
            _data_manager=data_manager,
            _meta=meta if isinstance(meta, Meta) else Meta(meta),
            _state=CREATED,
            _resources={},
            _creating=set(),
            _resource_generators=[],
            _middleware_generators=[],
            _exit_errors=[],
            _finishers=[],
            _record=ContextRecord(),
            _error=None,
            _pushed=False,
            _bound_dal=None,
        )

    # -- public, read-only state ---------------------------------------------------------------------------

    @property
    def data_manager(self) -> DataManager:
        return self._data_manager

    @property
    def dal(self) -> BoundDAL:
        """The DAL bound to this context: its services run in this context from any thread (see ``BoundDAL``)."""
        bound = self._bound_dal
        if bound is None:
            bound = self.__dict__["_bound_dal"] = BoundDAL(self)
        return bound

    @property
    def meta(self) -> Meta:
        return self._meta

    @meta.setter
    def meta(self, value: object) -> None:
        raise AttributeError("DataAccessContext.meta is read-only; pass meta when creating the context")

    @meta.deleter
    def meta(self) -> None:
        raise AttributeError("DataAccessContext.meta is read-only")

    @property
    def state(self) -> str:
        return self._state

    @property
    def record(self) -> ContextRecord:
        """What happened so far: resources and middleware with timings and outcomes (for tooling)."""
        return self._record

    @property
    def error(self) -> BaseException | None:
        """The error the context ended with (after middleware), or None; meaningful once exited."""
        return self._error

    def get_resource_exit_errors(self) -> list[ExcInfo]:
        """Errors raised by resources during teardown, as ``(type, value, traceback)`` (polydatum's format)."""
        return list(self._exit_errors)

    def __contains__(self, name: object) -> bool:
        """True once the resource ``name`` has been created in this context."""
        return name in self._resources

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state} resources={list(self._resources)}>"

    # -- resources -----------------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        factory = self._data_manager.get_resource(name)
        if factory is None:
            raise AttributeError(f"{type(self).__name__} has no attribute or resource {name!r}")
        state = self._state
        if state not in _CAN_READ:
            raise ContextStateError(f"resource {name!r} can only be used inside an entered context (it is {state})")
        try:
            return self._resources[name]
        except KeyError:
            pass
        if state not in _CAN_CREATE:
            raise ContextStateError(f"resource {name!r} cannot be created while resources are being torn down")
        if name in self._creating:
            raise ContextStateError(f"resource {name!r} needs itself during its own setup")
        return self._create_resource(name, factory)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and self._data_manager.get_resource(name) is not None:
            raise AttributeError(f"{name!r} is a resource of this context and cannot be assigned")
        object.__setattr__(self, name, value)

    def _create_resource(self, name: str, factory: Any) -> Any:
        step = self._record._add(Step("resource", name))
        self._creating.add(name)
        started = perf_counter()
        try:
            generator = factory(self)
            if not isinstance(generator, Generator):
                raise ResourceSetupException(
                    f"resource {name!r}: {describe(factory)} returned {type(generator).__name__}, not a generator"
                )
            value = next(generator)
        except StopIteration:
            error = ResourceSetupException(f"resource {name!r}: {describe(factory)} did not yield on setup")
            step.setup_seconds, step.setup_error = perf_counter() - started, ErrorInfo.of(error)
            raise error from None
        except BaseException as error:
            step.setup_seconds, step.setup_error = perf_counter() - started, ErrorInfo.of(error)
            raise
        finally:
            self._creating.discard(name)
        step.setup_seconds = perf_counter() - started
        self._resources[name] = value
        # later reads are plain attribute hits (no __getattr__) until the context ends and drops them
        self.__dict__[name] = value
        self._resource_generators.append((name, generator, step))
        finish = getattr(value, FINISH_HOOK, None)
        if finish is not None:
            self._finishers.append(finish)
        return value

    # -- entering and leaving ------------------------------------------------------------------------------

    def __enter__(self) -> DataAccessContext:
        return self._start(push=True)

    def open(self) -> DataAccessContext:
        """Enter the context without making it the calling thread's active context; end it with ``close()``.

        For an owner whose work is not tied to one thread (a web request whose views may use a thread pool):
        everything reaches the context through its bound ``dal``, so no thread's stack can hand it to another
        unit of work, or hand another unit's context to it.
        """
        return self._start(push=False)

    @contextmanager
    def activated(self) -> Iterator[DataAccessContext]:
        """Make this context the active one of the calling thread or task for the ``with`` block.

        For code that finds its context through the manager (``dm.require_active_context()``, a store) when the
        context was opened with ``open()``. Re-entrant; the thread's stack is restored exactly afterwards.
        """
        token = self._data_manager._activate(self)
        try:
            yield self
        finally:
            self._data_manager._deactivate(token)

    def _start(self, push: bool) -> DataAccessContext:
        if self._state != CREATED:
            raise ContextStateError("a context can be entered only once; create a new one with DataManager.context()")
        manager = self._data_manager
        middleware = manager.get_middleware(self)
        token = None
        if push:
            manager._push_context(self)
            self.__dict__["_pushed"] = True
        elif middleware or self._has_setup_hook:  # only code run during setup needs it active
            token = manager._activate(self)
        self._set_state(SETUP)
        try:
            try:
                if self._has_setup_hook:
                    self._setup_hook()
                for item in middleware:
                    self._setup_middleware(item)
            finally:
                manager._deactivate(token)
        except BaseException as error:
            final = self._close(error, strict=True)
            if final is error or final is None:
                raise
            raise final  # noqa: B904 - a middleware's replacement error keeps the chaining it was raised with
        self._set_state(ACTIVE)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is not None and exc_value is None:
            exc_value = exc_type()
        final = self._close(exc_value, strict=True)
        if final is None or final is exc_value:
            return False
        raise final

    def close(self, error: BaseException | None = None) -> BaseException | None:
        """End the context outside a ``with`` block; returns the final error instead of raising it.

        For integrations that end a context from a callback (a web framework's end-of-request hook), where the
        error has already been handled elsewhere and raising again would only hide it. Unlike ``__exit__`` it may
        end a context entered in another thread or task (the request's data was first touched in a worker
        thread): everything is torn down here, and that thread's stack drops the context when next read.
        """
        return self._close(error, strict=False)

    def _setup_middleware(self, middleware: Any) -> None:
        name = describe(middleware)
        step = self._record._add(Step("middleware", name))
        started = perf_counter()
        try:
            generator = middleware(self)
            if not isinstance(generator, Generator):
                raise InvalidMiddleware(f"middleware {name} returned {type(generator).__name__}, not a generator")
            next(generator)
        except StopIteration:
            error = MiddlewareSetupException(f"middleware {name} did not yield on setup")
            step.setup_seconds, step.setup_error = perf_counter() - started, ErrorInfo.of(error)
            raise error from None
        except BaseException as error:
            step.setup_seconds, step.setup_error = perf_counter() - started, ErrorInfo.of(error)
            raise
        step.setup_seconds = perf_counter() - started
        self._middleware_generators.append((name, generator, step))

    def _close(self, error: BaseException | None, strict: bool) -> BaseException | None:
        if self._state not in (SETUP, ACTIVE):
            raise ContextStateError(f"cannot exit a context that is {self._state}")
        manager = self._data_manager
        if self._pushed:
            manager._check_top_context(self, strict)
        token = manager._activate(self)
        try:
            self._set_state(CLOSING)
            error = self._teardown_middleware(error)
            if self._finishers:
                error = self._finish_resources(error)
            self.__dict__["_error"] = error
            self._record._error = ErrorInfo.of(error)
            self._set_state(RELEASING)
            if self._has_teardown_hook:
                self._run_hook(self._teardown_hook, error)
            self._teardown_resources(error)
        finally:
            attributes = self.__dict__
            for name in self._resources:
                attributes.pop(name, None)
            self._resources.clear()
            self._set_state(EXITED)
            manager._deactivate(token)
            if self._pushed:
                manager._pop_context(self)
            if self._has_final_hook:
                self._run_hook(self._final_hook, error)
        return error

    # -- polydatum's subclass hooks ------------------------------------------------------------------------

    #: whether a subclass overrides the hook (set per class: the base's empty hooks are not even called)
    _has_setup_hook = False
    _has_teardown_hook = False
    _has_final_hook = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._has_setup_hook = cls._setup_hook is not DataAccessContext._setup_hook
        cls._has_teardown_hook = cls._teardown_hook is not DataAccessContext._teardown_hook
        cls._has_final_hook = cls._final_hook is not DataAccessContext._final_hook

    def _setup_hook(self) -> None:
        """Called when the context is entered, before middleware is set up (errors fail the context)."""

    def _teardown_hook(self, exception: BaseException | None) -> None:
        """Called after middleware teardown, before resources (errors are kept as resource exit errors)."""

    def _final_hook(self, exception: BaseException | None) -> None:
        """Called last, once the context left the stack (errors are kept as resource exit errors)."""

    def _run_hook(self, hook: Any, error: BaseException | None) -> None:
        try:
            hook(error)
        except Exception as hook_error:
            self._exit_errors.append((type(hook_error), hook_error, hook_error.__traceback__))
            log.error("context hook %s failed", getattr(hook, "__name__", hook), exc_info=hook_error)

    def _teardown_middleware(self, error: BaseException | None) -> BaseException | None:
        while self._middleware_generators:
            name, generator, step = self._middleware_generators.pop()
            received = error
            started = perf_counter()
            error = _finish(generator, "middleware", name, error)
            step.teardown_seconds = perf_counter() - started
            if received is not None:
                step.received_error = ErrorInfo.of(received)
            if error is not received:
                step.teardown_error = ErrorInfo.of(error)
        return error

    def _finish_resources(self, error: BaseException | None) -> BaseException | None:
        """Resources that end the unit of work (``FINISH_HOOK``), newest first; one that raises fails the context."""
        for finish in reversed(self._finishers):
            try:
                finish(error)
            except BaseException as raised:  # noqa: BLE001 - the context's new error, raised by its caller
                error = raised
        return error

    def _teardown_resources(self, error: BaseException | None) -> None:
        received = ErrorInfo.of(error)
        while self._resource_generators:
            name, generator, step = self._resource_generators.pop()
            started = perf_counter()
            result = _finish(generator, "resource", name, error)
            failed = result is not None and result is not error
            step.teardown_seconds = perf_counter() - started
            step.received_error = received
            if failed:
                step.teardown_error = ErrorInfo.of(result)
            step.details = _details_of(name, self._resources.get(name))
            if failed:
                assert result is not None
                self._exit_errors.append((type(result), result, result.__traceback__))
                log.error("teardown of resource %r failed", name, exc_info=result)

    def _set_state(self, state: str) -> None:
        self.__dict__["_state"] = state
        self._record._state = state


def _finish(
    generator: Generator[Any, None, None], kind: str, name: str, error: BaseException | None
) -> BaseException | None:
    """Run a setup/teardown generator to its end; return the error that should propagate after it.

    A generator that catches the thrown error and returns does not cancel it: the same error is returned. One
    that raises another error replaces it. One that yields again gets a ``RuntimeError``.
    """
    try:
        if error is None:
            next(generator)
        else:
            generator.throw(error)
    except StopIteration:
        return error
    except BaseException as raised:  # noqa: BLE001 - every teardown outcome is returned to the caller
        return raised
    label = f"resource {name!r}" if kind == "resource" else name
    _close_quietly(generator, label)
    again = RuntimeError(f"{label} yielded more than once")
    again.__cause__ = error
    return again


def _details_of(name: str, value: Any) -> Mapping[str, Any] | None:
    hook = getattr(value, RECORD_HOOK, None)
    if hook is None:
        return None
    try:
        details = hook()
        return details if isinstance(details, MappingProxyType) else MappingProxyType(dict(details))
    except Exception:
        log.warning("resource %r could not report its record details", name, exc_info=True)
        return None


def _close_quietly(generator: Generator[Any, None, None], name: str) -> None:
    try:
        generator.close()
    except Exception:
        log.error("closing %s after it yielded twice failed", name, exc_info=sys.exc_info())
