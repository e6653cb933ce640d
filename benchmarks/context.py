"""Context cost as the app grows: enter and exit ``dm.context()`` with 0, 10, 100 registrations."""

from __future__ import annotations

from pyramid_polydatum import DataManager, Service

from .wsgi import interleave

SIZES = (0, 10, 100)


class Noop(Service):
    def ping(self) -> int:
        return 1


def _resource(ctx):
    yield object()


def _middleware(index: int):
    def middleware(ctx):
        yield
    middleware.__name__ = middleware.__qualname__ = f"middleware_{index}"
    return middleware


def manager(services_resources: int, middleware: int) -> DataManager:
    dm = DataManager()
    dm.register_resources(r0=_resource)  # always one resource to touch
    if services_resources:
        dm.register_services(**{f"s{i}": Noop() for i in range(services_resources)})
        dm.register_resources(**{f"r{i}": _resource for i in range(1, services_resources + 1)})
    if middleware:
        dm.register_context_middleware(*[_middleware(i) for i in range(middleware)])
    return dm


def untouched(dm: DataManager):
    def call() -> None:
        with dm.context():
            pass
    return call


def touched(dm: DataManager):
    def call() -> None:
        with dm.context() as ctx:
            _ = ctx.r0
    return call


def run(rounds: int, batch: int) -> list[tuple]:
    rows: list[tuple] = []
    groups = {
        "services+resources": lambda n: manager(n, 0),
        "middleware (always runs)": lambda n: manager(0, n),
    }
    for group, build in groups.items():
        for mode, make in (("untouched", untouched), ("one resource touched", touched)):
            callers = {f"{n} registered": make(build(n)) for n in SIZES}
            medians = interleave(callers, rounds, batch)
            ref = medians["0 registered"]
            for name, value in medians.items():
                target = 1.2 if group == "services+resources" and mode == "untouched" and name != "0 registered" \
                    else None
                rows.append((f"context {group}, {mode}", name, value, ref, target))
    return rows
