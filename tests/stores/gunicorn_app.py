"""The Pyramid app of the stale-read count under gunicorn (``tests/stores/test_gunicorn.py``).

``config.include('pyramid_polydatum')`` with one PostgreSQL engine, and a ``ChainedStore`` of a ``RedisStore``
over a ``SQLAlchemyStore`` built once the configuration is committed (the store watches the registry's
sessionmakers, which exist from then on). Served as ``tests.stores.gunicorn_app:make_app()`` by gunicorn with
``--preload``: the app and the store are built in the master, then the workers are forked.

- ``GET /write?k=K&n=N&how=orm|put`` sets row K's name to ``v<N>`` in the request's unit of work, as a view
  would: through the ORM session (``orm``) or through the chain (``put``). pyramid_tm commits, and the commit
  evicts Redis, before the response leaves.
- ``GET /read?k=K&by=id|slug`` reads row K through the chain, by its primary key or its alternate key, and
  answers the version read and whether Redis served it.

Each answer names the worker (``pid``). The URLs come from ``POLYDATUM_TEST_DB`` and ``POLYDATUM_TEST_REDIS``.
"""

from __future__ import annotations

import os
from typing import Any

from pyramid.config import Configurator
from sqlalchemy import inspect

from pyramid_polydatum.glue import get_data_manager, get_engines
from pyramid_polydatum.stores import ChainedStore, RedisStore, SQLAlchemyStore

from .models import Row


def make_app() -> Any:
    settings = {"polydatum.engine.writer.url": os.environ["POLYDATUM_TEST_DB"]}
    with Configurator(settings=settings) as config:
        config.include("pyramid_polydatum")
        config.add_route("read", "/read")
        config.add_route("write", "/write")
        config.commit()  # the engines and their sessionmakers exist from here: the store listens on them
        chain = ChainedStore([
            RedisStore(url=os.environ["POLYDATUM_TEST_REDIS"], classes=[Row], prefix="gunicorn-stale"),
            SQLAlchemyStore(get_data_manager(config.registry), [Row], registry=get_engines(config.registry)),
        ])

        def read(request: Any) -> dict[str, Any]:
            k = int(request.params["k"])
            key: Any = k if request.params.get("by", "id") == "id" else {"tenant": 1, "slug": f"s{k}"}
            with request.dal.context.activated():  # the store finds the request's context through the manager
                row = chain.get(Row, key)
            # A row the SQL layer returned is in the request's session; one rebuilt from Redis is not.
            return {"pid": os.getpid(), "version": int(row.name[1:]), "cached": not inspect(row).persistent}

        def write(request: Any) -> dict[str, Any]:
            k, name = int(request.params["k"]), f"v{int(request.params['n'])}"
            if request.params.get("how", "orm") == "put":
                with request.dal.context.activated():
                    chain.put(Row(id=k, tenant=1, slug=f"s{k}", name=name))
            else:
                request.dal.context.db.writer.get(Row, k).name = name
            return {"pid": os.getpid()}

        config.add_view(read, route_name="read", renderer="json")
        config.add_view(write, route_name="write", renderer="json")
    return config.make_wsgi_app()
