"""DataManager: the registry of services, resources and context middleware, and the owner of its contexts."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from .context import DataAccessContext
from .dal import DataAccessLayer
from .errors import AlreadyExistsException, ContextStateError, InvalidMiddleware, InvalidResource, NoActiveContext
from .meta import Meta
from .naming import check_name
from .resources import Resource, describe, is_generator_callable
from .services import Service

_manager_ids = itertools.count(1)


class DataManager:
    """Registry of one data layer: services (through its DAL), resource factories and context middleware.

    Each manager keeps its own stack of active contexts in a ``ContextVar``: a thread or an asyncio task sees only
    the contexts it entered itself (or inherited when it was started), and two managers never see each other's.
    """

    def __init__(
        self,
        *,
        context_class: type[DataAccessContext] = DataAccessContext,
        dal_class: type[DataAccessLayer] = DataAccessLayer,
    ) -> None:
        self._context_class = context_class
        self._dal = dal_class(self)
        self._resources: dict[str, Any] = {}
        self._middleware: list[Callable[..., Any]] = []
        self._stack: ContextVar[tuple[DataAccessContext, ...]] = ContextVar(
            f"pyramid_polydatum.stack.{next(_manager_ids)}", default=()
        )

    # -- services ------------------------------------------------------------------------------------------

    def register_services(self, **services: Service) -> DataManager:
        """Register top-level services by name; ``AlreadyExistsException`` for a taken name."""
        self._dal.register_services(**services)
        return self

    def replace_service(self, name: str, service: Service) -> Service:
        """Swap a service (tests, alternative implementations); returns the new service."""
        return self._dal.replace_service(name, service)

    def get_dal(self) -> DataAccessLayer:
        return self._dal

    # -- resources -----------------------------------------------------------------------------------------

    def register_resources(self, **factories: Any) -> DataManager:
        """Register resource factories by name: generator callables or ``Resource`` instances.

        Every name and factory is checked before any is registered, so a failed call changes nothing.
        """
        for name, factory in factories.items():
            check_name("resource", name, self._context_class)
            if name in self._resources:
                raise AlreadyExistsException(f"a resource named {name!r} is already registered")
            _check_resource(name, factory)
        for name, factory in factories.items():
            self._add_resource(name, factory)
        return self

    def replace_resource(self, name: str, factory: Any) -> DataManager:
        """Swap (or add) the factory of a resource; contexts already holding it keep their instance."""
        check_name("resource", name, self._context_class)
        _check_resource(name, factory)
        self._add_resource(name, factory)
        return self

    def get_resource(self, name: str) -> Any:
        """The factory registered as ``name``, or None."""
        return self._resources.get(name)

    @property
    def resource_names(self) -> tuple[str, ...]:
        return tuple(self._resources)

    def _add_resource(self, name: str, factory: Any) -> None:
        if isinstance(factory, Resource):
            factory.setup(self)
        self._resources[name] = factory

    # -- middleware ----------------------------------------------------------------------------------------

    def register_context_middleware(self, *middleware: Callable[..., Any]) -> DataManager:
        """Add middleware, in order of setup; each is a generator callable taking the context."""
        for item in middleware:
            if not callable(item) or not is_generator_callable(item):
                raise InvalidMiddleware(
                    f"middleware {item!r} must be a generator function (or callable) taking the context"
                )
            if item in self._middleware or middleware.count(item) > 1:
                raise AlreadyExistsException(f"middleware {describe(item)} is already registered")
        self._middleware.extend(middleware)
        return self

    def get_middleware(self, context: DataAccessContext) -> tuple[Callable[..., Any], ...]:
        """The middleware for ``context``, in setup order (override to choose per context)."""
        return tuple(self._middleware)

    # -- contexts ------------------------------------------------------------------------------------------

    def context(self, meta: Meta | dict[str, Any] | None = None) -> DataAccessContext:
        """A new, not yet entered context: ``with dm.context(meta={...}) as ctx:``."""
        return self._context_class(self, meta=meta)

    @contextmanager
    def dal(self, meta: Meta | dict[str, Any] | None = None) -> Iterator[DataAccessLayer]:
        """Enter a new context and yield the DAL: ``with dm.dal() as dal: dal.users.get(1)``.

        As in polydatum, ``dal.users`` is the registered service and finds the context through this thread's
        stack; code handing work to other threads passes ``ctx.dal`` (bound to the context) instead.
        """
        with self.context(meta=meta):
            yield self._dal

    def get_active_context(self) -> DataAccessContext | None:
        """The innermost context of this manager entered in the current thread or task, or None."""
        stack = self._live_stack()
        return stack[-1] if stack else None

    def require_active_context(self, purpose: str = "this operation") -> DataAccessContext:
        """The active context; ``NoActiveContext`` (saying what needed it) when there is none."""
        stack = self._live_stack()
        if not stack:
            raise NoActiveContext(
                f"{purpose} needs an active context of this DataManager: wrap the work in "
                "'with data_manager.dal() as dal:' (or use request.dal in Pyramid)"
            )
        return stack[-1]

    @property
    def active_contexts(self) -> tuple[DataAccessContext, ...]:
        """The contexts entered in the current thread or task, outermost first."""
        return self._live_stack()

    def _live_stack(self) -> tuple[DataAccessContext, ...]:
        """This thread's stack, without contexts that were ended from another thread (``close()``)."""
        stack = self._stack.get()
        if stack and stack[-1].state == "exited":
            stack = tuple(c for c in stack if c.state != "exited")
            self._stack.set(stack)
        return stack

    def _push_context(self, context: DataAccessContext) -> None:
        self._stack.set((*self._live_stack(), context))

    def _activate(self, context: DataAccessContext) -> Token[tuple[DataAccessContext, ...]] | None:
        """Make ``context`` the active one here until ``_deactivate``; None when it already is (nothing to undo)."""
        stack = self._stack.get()
        if stack and stack[-1] is context:
            return None
        return self._stack.set((*stack, context))

    def _deactivate(self, token: Token[tuple[DataAccessContext, ...]] | None) -> None:
        if token is not None:
            self._stack.reset(token)

    def _check_top_context(self, context: DataAccessContext, strict: bool = True) -> None:
        """Contexts end in reverse order of entering, in the thread or task that entered them.

        ``strict=False`` (``close()``) also accepts a context entered in another thread or task: it is ended
        here, and leaves the other stack the next time that one is read.
        """
        stack = self._live_stack()
        if stack and stack[-1] is context:
            return
        if not strict and context not in stack:
            return
        top = stack[-1] if stack else None
        raise ContextStateError(
            f"contexts must be exited in reverse order of entering, in the thread or task that entered them: "
            f"exiting {context!r} while the active context here is {top!r}"
        )

    def _pop_context(self, context: DataAccessContext) -> None:
        stack = self._stack.get()
        if stack and stack[-1] is context:
            self._stack.set(stack[:-1])

    def __repr__(self) -> str:
        return (
            f"<DataManager services={list(self._dal.service_names)} resources={list(self._resources)} "
            f"middleware={len(self._middleware)}>"
        )


def _check_resource(name: str, factory: Any) -> None:
    if isinstance(factory, Resource):
        return
    if not callable(factory) or not is_generator_callable(factory):
        raise InvalidResource(
            f"resource {name!r} must be a generator function taking the context, or a Resource; got {factory!r}"
        )
