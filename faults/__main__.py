"""``python -m faults``: fault and load runs against a throwaway PostgreSQL database on 127.0.0.1.

    python -m faults                       # 3000 requests in process, 1500 through waitress, 1500 through gunicorn
    python -m faults --requests 300        # a short run
"""

from __future__ import annotations

import argparse
import functools
import logging

from .app import make_app
from .run import Outcome, drive, http_call, plan, prepare, verify, wsgi_call
from .servers import gunicorn_server, waitress_server


def run_all(requests: int, threads: int, workers: int, modes: list[str]) -> dict[str, Outcome]:
    from tests.services import create_postgresql, drop_postgresql

    database = create_postgresql()
    results: dict[str, Outcome] = {}
    try:
        for mode in modes:
            prepare(database.admin_url, database.writer_url)
            count = requests if mode == "in-process" else max(requests // 2, 1)
            items = plan(count)
            if mode == "in-process":
                app = make_app(database.writer_url, database.reader_url)
                outcome, completed = drive(functools.partial(wsgi_call, app), items, threads)
                from pyramid_polydatum.glue import get_engines

                engines = get_engines(app.registry)
                outcome.checked_out = sum(entry.engine.pool.checkedout() for entry in engines)
                engines.dispose()
            elif mode == "waitress":
                app = make_app(database.writer_url, database.reader_url)
                with waitress_server(app, threads) as port:
                    outcome, completed = drive(functools.partial(http_call, port), items, threads)
                from pyramid_polydatum.glue import get_engines

                engines = get_engines(app.registry)
                outcome.checked_out = sum(entry.engine.pool.checkedout() for entry in engines)
                engines.dispose()
            else:
                with gunicorn_server(database.writer_url, database.reader_url, workers) as port:
                    outcome, completed = drive(functools.partial(http_call, port), items, threads)
                outcome.workers = workers
            results[mode] = verify(outcome, completed, database.admin_url, database.name)
    finally:
        drop_postgresql(database)
    return results


def print_table(results: dict[str, Outcome]) -> None:
    header = ("run", "requests", "req/s", "2xx", "5xx", "wrong status", "crossed", "transport err", "lost",
              "partial", "checked out", "idle in tx", "verdict")
    rows = [header]
    for mode, o in results.items():
        ok = sum(n for s, n in o.statuses.items() if s < 300)
        bad = sum(n for s, n in o.statuses.items() if s >= 500)
        rows.append((mode, str(o.requests), f"{o.requests / o.seconds:.0f}", str(ok), str(bad),
                     str(o.unexpected_status), str(o.crossed), str(o.transport_errors), str(o.lost), str(o.partial),
                     "-" if o.checked_out is None else str(o.checked_out), str(o.idle_in_transaction),
                     "clean" if o.clean else "FAILED"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main() -> int:
    # every injected fault is logged by design; the table is the report
    logging.getLogger("pyramid_polydatum").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests of the in-process run (servers: half)")
    parser.add_argument("--threads", type=int, default=16, help="client threads (and waitress threads)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--modes", default="in-process,waitress,gunicorn")
    args = parser.parse_args()
    results = run_all(args.requests, args.threads, args.workers, args.modes.split(","))
    print_table(results)
    return 0 if all(o.clean for o in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
