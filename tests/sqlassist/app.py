"""An app written for pyramid_sqlassist: only ``import pyramid_sqlassist`` was changed to the line below."""

from __future__ import annotations

import sqlalchemy
from pyramid.config import Configurator
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError

import pyramid_polydatum.sqlassist as pyramid_sqlassist
from pyramid_polydatum.glue import request_context
from pyramid_polydatum.sessions import ReadOnlySessionError
from tests.sqlassist import models
from tests.sqlassist.models import Item


def initialize_database(config, settings):
    engine_reader = sqlalchemy.engine_from_config(settings, prefix="sqlalchemy_reader.")
    pyramid_sqlassist.initialize_engine(
        "reader",
        engine_reader,
        is_default=False,
        model_package=models,
        use_zope=False,
        is_scoped=False,
        is_readonly=settings.get("sqlassist.reader_readonly", False),
    )
    engine_writer = sqlalchemy.engine_from_config(settings, prefix="sqlalchemy_writer.")
    pyramid_sqlassist.initialize_engine(
        "writer",
        engine_writer,
        is_default=False,
        model_package=models,
        use_zope=settings.get("sqlassist.use_zope", False),
        is_scoped=settings.get("sqlassist.is_scoped", True),
    )
    pyramid_sqlassist.register_request_method(config, "dbSession")


def add_item(request):
    item = Item(id=int(request.params["id"]), name=request.params["name"])
    request.dbSession.writer.add(item)
    if request.params.get("commit"):
        request.dbSession.writer.commit()
    if request.params.get("fail"):
        raise RuntimeError("the view failed after adding")
    return {"id": item.id}


def list_items(request):
    return {"names": list(request.dbSession.reader.scalars(select(Item.name).order_by(Item.id)))}


def same_sessions(request):
    db = request.dbSession
    reader, writer = db.reader, db.writer
    ctx = request_context(request)
    item = Item.get__by__id(reader, int(request.params["id"]))
    return {
        "reader_is_ctx_reader": reader is ctx.db.reader,
        "writer_is_ctx_writer": writer is ctx.db.writer,
        "memoized": db.reader is reader and db.get_reader() is reader and db.get_writer() is writer,
        "any_is_reader": db.any is reader and db.get_any() is reader,
        "request_in_info": reader.info.get("request") is request and writer.info.get("request") is request,
        "get_session_is_writer": pyramid_sqlassist.get_session("writer") is writer,
        "item_request": item._pyramid_request is request and item._sqlalchemy_session is reader,
        "sessions_differ": reader is not writer,
    }


def any_after_writer(request):
    writer = request.dbSession.writer
    return {"any_is_writer": request.dbSession.any is writer}


def readonly_probe(request):
    reader = request.dbSession.reader
    outcome = {}
    reader.add(Item(id=int(request.params["id"]), name="through the reader"))
    try:
        reader.flush()
        outcome["flush"] = "accepted"
    except ReadOnlySessionError:
        outcome["flush"] = "refused"
    reader.rollback()
    try:
        reader.execute(insert(Item.__table__).values(id=int(request.params["id"]), name="raw"))
        outcome["raw"] = "accepted"
    except DBAPIError:
        outcome["raw"] = "refused"
    reader.rollback()
    return outcome


def hold(request):
    """Keep a session busy while another request runs and ends; report whether it is still intact."""
    coordinator = request.registry.settings["test.coordinator"]
    session = request.dbSession.writer
    item = Item(id=int(request.params["id"]), name="pending")
    session.add(item)
    connection = session.connection()
    coordinator["a_ready"].set()
    waited = coordinator["b_done"].wait(10)
    return {
        "waited": waited,
        "session": id(session),
        "in_transaction": session.in_transaction(),
        "same_connection": session.connection() is connection,
        "still_pending": item in session.new,
        "own_request": session.info.get("request") is request,
    }


def touch(request):
    session = request.dbSession.writer
    session.add(Item(id=int(request.params["id"]), name="other"))
    session.connection()
    return {"session": id(session), "own_request": session.info.get("request") is request}


def main(global_config, **settings):
    config = Configurator(settings=settings)
    for name, path, view, method in (
        ("add", "/items/add", add_item, "POST"),
        ("list", "/items", list_items, "GET"),
        ("same", "/same", same_sessions, "GET"),
        ("any", "/any", any_after_writer, "GET"),
        ("readonly", "/readonly", readonly_probe, "GET"),
        ("hold", "/hold", hold, "GET"),
        ("touch", "/touch", touch, "GET"),
    ):
        config.add_route(name, path)
        config.add_view(view, route_name=name, renderer="json", request_method=method)
    initialize_database(config, settings)
    return config.make_wsgi_app()
