"""A runnable tour of the polydatum core: services, a resource, a middleware, one unit of work.

    python examples/quickstart.py
"""

import copy
import time

from pyramid_polydatum import DataManager, NotFound, Service


class Notes(Service):
    def get(self, note_id):
        return self._ctx.store.get(note_id)

    def add(self, text):
        note_id = len(self._ctx.store) + 1
        self._ctx.store[note_id] = {"id": note_id, "text": text, "author": self._ctx.meta.user}
        return note_id

    def edit(self, note_id, text):
        note = self.get(note_id)
        if note is None:
            raise NotFound(f"note {note_id}")
        note["text"] = text


DATABASE: dict = {}


def store(ctx):
    """A resource: a working copy that is written back only if the unit of work succeeds."""
    working = copy.deepcopy(DATABASE)
    try:
        yield working
    except Exception:
        print("  store: rolled back")
        raise
    else:
        DATABASE.clear()
        DATABASE.update(working)
        print("  store: committed")


def timing(ctx):
    """A context middleware: wraps the whole unit of work."""
    started = time.perf_counter()
    try:
        yield
    finally:
        print(f"  timing: {ctx.meta.user}'s unit of work took {(time.perf_counter() - started) * 1e6:.0f} µs")


dm = DataManager()
dm.register_resources(store=store)
dm.register_context_middleware(timing)
dm.register_services(notes=Notes())

print("a unit of work that succeeds:")
with dm.dal(meta={"user": "ann"}) as dal:
    note_id = dal.notes.add("buy milk")
    print("  read your write:", dal.notes.get(note_id))

print("a unit of work that fails:")
try:
    with dm.dal(meta={"user": "bob"}) as dal:
        dal.notes.edit(note_id, "buy beer")
        dal.notes.edit(99, "no such note")
except NotFound as error:
    print("  NotFound:", error)

print("what is stored:", DATABASE)
