"""``python -m benchmarks [--quick] [--backend sqlite|postgresql|both] [--only wsgi,context,stores]``.

Run from the project root. Ratios are the result (absolute µs drift on a shared machine): every variant of a
benchmark is measured in interleaved batches, in a new random order each round, and the median per call is shown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from . import context, report, stores, wsgi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", default="wsgi,roundtrips,context,stores",
                        help="comma-separated: wsgi,roundtrips,context,stores")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    rounds, batch = (9, 20) if args.quick else (31, 60)
    started = time.perf_counter()
    rows: list[tuple] = []
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    pg_reader = None
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                from tests.services import create_sqlite

                db = create_sqlite(directory)
                if "wsgi" in parts:
                    rows += wsgi.run("sqlite", db.writer_url, db.reader_url, rounds, batch)
            continue
        from tests.services import create_postgresql, drop_postgresql

        try:
            db = create_postgresql()
        except Exception as error:  # noqa: BLE001 - no server: say so and go on
            rows.append(("postgresql", f"not reachable ({type(error).__name__})", None, None, None))
            continue
        try:
            if "wsgi" in parts:
                rows += wsgi.run("postgresql", db.writer_url, db.reader_url, rounds, batch)
            if "roundtrips" in parts:
                from . import roundtrips

                rows += roundtrips.run(db.writer_url, db.reader_url)
            if "wsgi" not in parts:
                from . import apps

                apps.create_schema(db.writer_url)
            if "stores" in parts:
                rows += stores.run(rounds, batch * 5, db.reader_url)
                pg_reader = db.reader_url
        finally:
            drop_postgresql(db)
    if "context" in parts:
        rows += context.run(rounds, batch * 10)
    if "stores" in parts and pg_reader is None:
        rows += stores.run(rounds, batch * 5, None)
    print(report.render(rows))
    print(f"\n{'quick' if args.quick else 'full'} run, {rounds} rounds, {time.perf_counter() - started:.0f} s;"
          " ratio = median / reference (first variant of the benchmark, or the one named)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
