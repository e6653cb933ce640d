"""``initialize_demo_db CONFIG_URI``: create the demo's tables on the writer engine and add a few items.

The cookiecutter's shape: bootstrap the app from its ini file, then write through the request's DAL inside
``with request.tm:``, the one transaction of that request. Running it again adds nothing: the items are seeded
only into an empty table. Alembic migrations are not used yet; the schema is created from the models.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyramid.paster import bootstrap, setup_logging
from sqlalchemy.exc import SQLAlchemyError

from pyramid_polydatum.glue import get_engines

from ..models import Base

#: (sku, name, description, quantity) of the items an empty database starts with.
SEED_ITEMS = (
    ("BOLT-M6", "Bolt M6 x 30", "Zinc-plated, hex head.", 400),
    ("NUT-M6", "Nut M6", "Fits BOLT-M6.", 650),
    ("WASH-M6", "Washer M6", "", 300),
    ("DRILL-6", "Drill bit 6 mm", "HSS, for metal.", 12),
)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="initialize_demo_db", description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the ini file, e.g. demo_app/development.ini")
    return parser.parse_args(argv)


def create_schema(registry: object) -> None:
    """The tables on the writer engine (the reader and the logger read the same database in the demo's ini files).

    On PostgreSQL run this as the role that owns the database: the reader role then gets SELECT on the new tables
    through the default privileges of the documented setup.
    """
    Base.metadata.create_all(get_engines(registry).writer.engine)


def seed(dal: object) -> int:
    """Add ``SEED_ITEMS`` when there is no item yet; the number of items added."""
    items = dal.items  # type: ignore[attr-defined]
    if items.count():
        return 0
    for sku, name, description, quantity in SEED_ITEMS:
        items.create(sku, name, description, quantity)
    return len(SEED_ITEMS)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env:
        request = env["request"]
        try:
            create_schema(env["registry"])
            with request.tm:
                added = seed(request.dal)
        except SQLAlchemyError as error:
            print(f"initialize_demo_db: the database refused: {type(error).__name__}: {error.orig or error}",
                  file=sys.stderr)
            return 1
    print(f"initialize_demo_db: schema ready; {added} item(s) added" if added
          else "initialize_demo_db: schema ready; the items were already there")
    return 0


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
