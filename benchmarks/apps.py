"""The WSGI apps compared by the per-request benchmark: one app per variant, same four routes, same model."""

from __future__ import annotations

from pyramid.config import Configurator
from sqlalchemy import Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from pyramid_polydatum import Service

ROUTES = ("untouched", "read", "write", "mixed")


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "bench_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def create_schema(writer_url: str, rows: int = 200) -> None:
    engine = create_engine(writer_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(Item.__table__.insert(), [{"name": f"item {i}"} for i in range(1, rows + 1)])
    engine.dispose()


def _routes(config: Configurator, views: dict) -> None:
    for name in ROUTES:
        config.add_route(name, f"/{name}")
        config.add_view(views.get(name, _untouched), route_name=name, renderer="json")


def _untouched(request):
    return {"ok": True}


def bare_app(writer_url: str, reader_url: str):
    """(a) bare Pyramid, no database: the reference for the untouched route."""
    with Configurator(settings={}) as config:
        _routes(config, {})
    return config.make_wsgi_app()


def bare_tm_app(writer_url: str, reader_url: str):
    """(a') bare Pyramid with pyramid_tm: the same app as (b) without the include, for an app that commits."""
    with Configurator(settings={"tm.manager_hook": "pyramid_tm.explicit_manager"}) as config:
        config.include("pyramid_tm")
        _routes(config, {})
    return config.make_wsgi_app()


def include_app(writer_url: str, reader_url: str):
    """(b) the bare app plus ``config.include('pyramid_polydatum')`` and its engines; nothing touched."""
    settings = {"polydatum.engine.writer.url": writer_url, "polydatum.engine.reader.url": reader_url}
    with Configurator(settings=settings) as config:
        config.include("pyramid_polydatum")
        _routes(config, {})
    return config.make_wsgi_app()


def cookiecutter_app(writer_url: str, reader_url: str):
    """(c) the Pyramid cookiecutter shape: pyramid_tm, one session per request joined by zope.sqlalchemy."""
    import zope.sqlalchemy

    engine = create_engine(writer_url)
    factory = sessionmaker(bind=engine)

    def dbsession(request):
        session = factory()
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    def read(request):
        return {"name": request.dbsession.get(Item, 1).name}

    def write(request):
        request.dbsession.add(Item(name="new"))
        return {"ok": True}

    def mixed(request):
        name = request.dbsession.get(Item, 1).name
        request.dbsession.add(Item(name=name))
        return {"ok": True}

    settings = {"tm.manager_hook": "pyramid_tm.explicit_manager"}
    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        config.add_request_method(dbsession, "dbsession", reify=True)
        _routes(config, {"read": read, "write": write, "mixed": mixed})
    return config.make_wsgi_app()


def sqlassist_app(writer_url: str, reader_url: str):
    """(d) pyramid_sqlassist: a writer with use_zope=True and a reader (its engine registry is process-global)."""
    import pyramid_sqlassist

    pyramid_sqlassist.initialize_engine("writer", create_engine(writer_url), is_default=True, use_zope=True)
    # is_readonly=True asks SQLAlchemy for autocommit=True, which SQLAlchemy 2 refuses: a plain reader engine
    pyramid_sqlassist.initialize_engine("reader", create_engine(reader_url))

    def read(request):
        return {"name": request.dbSession.reader.get(Item, 1).name}

    def write(request):
        request.dbSession.writer.add(Item(name="new"))
        return {"ok": True}

    def mixed(request):
        name = request.dbSession.reader.get(Item, 1).name
        request.dbSession.writer.add(Item(name=name))
        return {"ok": True}

    with Configurator(settings={}) as config:
        config.include("pyramid_tm")
        pyramid_sqlassist.register_request_method(config, "dbSession")
        _routes(config, {"read": read, "write": write, "mixed": mixed})
    return config.make_wsgi_app()


def handmade_app(writer_url: str, reader_url: str):
    """(f) the same work by hand: plain engines and sessions, pyramid_tm, the writer joined to ``request.tm``.

    The reference for the library's own Python time: what (e) does beyond this is the library's cost.
    """
    from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction

    writer = sessionmaker(bind=create_engine(writer_url))
    reader = sessionmaker(bind=create_engine(reader_url))

    def close_on_finish(request, session):
        request.add_finished_callback(lambda request: session.close())
        return session

    def writer_session(request):
        session = close_on_finish(request, writer())
        join_transaction(session, STATUS_CHANGED, request.tm)
        return session

    def reader_session(request):
        return close_on_finish(request, reader())

    def read(request):
        return {"name": request.reader_session.get(Item, 1).name}

    def write(request):
        request.writer_session.add(Item(name="new"))
        return {"ok": True}

    def mixed(request):
        name = request.reader_session.get(Item, 1).name
        request.writer_session.add(Item(name=name))
        return {"ok": True}

    settings = {"tm.manager_hook": "pyramid_tm.explicit_manager"}
    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        config.add_request_method(writer_session, "writer_session", reify=True)
        config.add_request_method(reader_session, "reader_session", reify=True)
        _routes(config, {"read": read, "write": write, "mixed": mixed})
    return config.make_wsgi_app()


class Items(Service):
    def get(self, item_id: int) -> Item | None:
        return self._ctx.db.reader.get(Item, item_id)

    def add(self, name: str) -> None:
        self._ctx.db.writer.add(Item(name=name))


def polydatum_app(writer_url: str, reader_url: str):
    """(e) pyramid_polydatum: reader and writer engines, ``request.dal.items``."""

    def read(request):
        return {"name": request.dal.items.get(1).name}

    def write(request):
        request.dal.items.add("new")
        return {"ok": True}

    def mixed(request):
        name = request.dal.items.get(1).name
        request.dal.items.add(name)
        return {"ok": True}

    settings = {"polydatum.engine.writer.url": writer_url, "polydatum.engine.reader.url": reader_url}
    with Configurator(settings=settings) as config:
        config.include("pyramid_polydatum")
        config.add_polydatum_service("items", Items())
        _routes(config, {"read": read, "write": write, "mixed": mixed})
    return config.make_wsgi_app()
