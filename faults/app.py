"""The app under fault injection: each request inserts one row, with the fault its query string asks for."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.view import exception_view_config
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pyramid_polydatum import Service


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "fault_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag: Mapped[str] = mapped_column(String(100))


class Child(Base):
    __tablename__ = "fault_children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_id: Mapped[int] = mapped_column(Integer, ForeignKey(Row.id, deferrable=True, initially="DEFERRED"))


#: fault → whether the row must exist afterwards
FAULTS: dict[str, bool] = {
    "none": True,
    "view_raises": False,
    "middleware_setup_raises": False,
    "resource_setup_fails": False,
    "commit_fails": False,
    "teardown_raises": True,
    "client_disconnects": True,
}


class Rows(Service):
    def add(self, row_id: int, tag: str) -> None:
        self._ctx.db.writer.add(Row(id=row_id, tag=tag))
        self._ctx.db.writer.flush()


class InjectedFault(Exception):
    pass


def fault_of(ctx: Any) -> str:
    request = ctx.meta.request
    return request.params.get("fault", "none") if request is not None else "none"


def flaky_middleware(ctx: Any) -> Any:
    if fault_of(ctx) == "middleware_setup_raises":
        raise InjectedFault("middleware setup")
    yield


def flaky_resource(ctx: Any) -> Any:
    fault = fault_of(ctx)
    if fault == "resource_setup_fails":
        raise InjectedFault("resource setup")
    yield "resource"
    if fault == "teardown_raises":
        raise InjectedFault("resource teardown")


def operation(request: Any) -> Any:
    row_id = int(request.params["id"])
    fault = request.params.get("fault", "none")
    request.dal.rows.add(row_id, request.headers.get("X-Tag", ""))
    request.polydatum_context.flaky  # noqa: B018 - the resource whose setup or teardown may fail
    if fault == "view_raises":
        raise InjectedFault("view")
    if fault == "commit_fails":
        request.polydatum_context.db.writer.add(Child(id=row_id, row_id=-row_id))  # deferred FK fails at COMMIT
    meta = request.polydatum_context.meta
    body = f"{row_id} {meta.request.headers.get('X-Tag', '')} {id(meta.request)}".encode()
    request.response.app_iter = [body[: len(body) // 2], body[len(body) // 2:]]
    request.response.content_type = "text/plain"
    return request.response


@exception_view_config(InjectedFault, renderer="string")
def injected_fault_view(exc: Exception, request: Any) -> str:
    request.response.status = 500
    return "injected"


@exception_view_config(DBAPIError, renderer="string")
def database_error_view(exc: Exception, request: Any) -> str:
    request.response.status = 503
    return "database refused"


def make_app(writer_url: str, reader_url: str, **extra: str) -> Any:
    settings = {
        "polydatum.engine.writer.url": writer_url,
        "polydatum.engine.writer.pool_size": "20",
        "polydatum.engine.reader.url": reader_url,
        "polydatum.engine.logger.url": writer_url,
        **extra,
    }
    with Configurator(settings=settings) as config:
        config.include("pyramid_polydatum")
        config.add_polydatum_service("rows", Rows())
        config.add_polydatum_resource("flaky", flaky_resource)
        config.add_polydatum_middleware(flaky_middleware)
        config.add_route("op", "/op")
        config.add_view(operation, route_name="op")
        config.scan("faults.app")
    return config.make_wsgi_app()
