"""A small Pyramid app exercising every commit and rollback path of the include."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPConflict, HTTPNotFound
from pyramid.view import exception_view_config
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from transaction.interfaces import TransientError

from pyramid_polydatum import Service
from tests.sessions.models import AuditEntry, Note, Tag


class Notes(Service):
    def add(self, note_id: int, text: str) -> Note:
        note = Note(id=note_id, text=text)
        self._ctx.db.writer.add(note)
        self._ctx.db.writer.flush()
        return note

    def get(self, note_id: int) -> Note | None:
        return self._ctx.db.any.get(Note, note_id)

    def context_of_call(self):
        return self._ctx

    def texts(self) -> list[str]:
        return list(self._ctx.db.reader.scalars(select(Note.text).order_by(Note.id)))


class HandledError(Exception):
    """Rendered by an exception view as a friendly page."""


def audit_middleware(ctx):
    """Write an audit row on the independent logger engine, whatever the outcome."""
    try:
        yield
    except Exception as error:
        ctx.db.logger.add(AuditEntry(message=f"failed: {type(error).__name__}"))
        raise
    else:
        request = ctx.meta.request
        if request is not None and "audit" in request.params:
            ctx.db.logger.add(AuditEntry(message="ok"))


def create(request):
    note = request.dal.notes.add(int(request.params["id"]), request.params.get("text", "note"))
    return {"id": note.id, "read_back": request.dal.notes.get(note.id).text}


def show(request):
    note = request.dal.notes.get(int(request.matchdict["id"]))
    if note is None:
        raise HTTPNotFound()
    return {"id": note.id, "text": note.text}


def fail(request):
    request.dal.notes.add(int(request.params["id"]), "half done")
    raise RuntimeError("view failed after writing")


def fail_handled(request):
    request.dal.notes.add(int(request.params["id"]), "half done")
    raise HandledError("friendly")


def commit_fails(request):
    request.dal.notes.add(int(request.params["id"]), "orphan's parent")
    request.polydatum_context.db.writer.add(Tag(id=1, note_id=999_999))  # deferred FK fails at COMMIT
    return {"saved": True}


def refuse(request):
    request.dal.notes.add(int(request.params["id"]), "refused")
    if request.params.get("abort"):
        request.tm.doom()
    return HTTPConflict(json_body={"error": "conflict"})


ATTEMPTS: list[int] = []


def retry_once(request):
    request.dal.notes.add(int(request.params["id"]), f"attempt {len(ATTEMPTS) + 1}")
    ATTEMPTS.append(id(request.polydatum_context))
    if len(ATTEMPTS) == 1:
        raise TransientError("serialization failure, try again")
    return {"attempts": len(ATTEMPTS)}


def retry_serialization(request):
    """A database serialization failure on the first attempt: retryable through zope.sqlalchemy's rules."""
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    request.dal.notes.add(int(request.params["id"]), f"attempt {len(ATTEMPTS) + 1}")
    ATTEMPTS.append(id(request.polydatum_context))
    if len(ATTEMPTS) == 1:
        raise OperationalError("UPDATE notes", {}, psycopg.errors.SerializationFailure("could not serialize"))
    return {"attempts": len(ATTEMPTS)}


def create_in_tm(request):
    """A view of an app that manages request.tm itself (pyramid_tm not active for the route)."""
    with request.tm:
        note = request.dal.notes.add(int(request.params["id"]), "own transaction")
        note_id = note.id
    return {"id": note_id}


SHARED_POOL = None


def shared_pool_whoami(request):
    """The data layer first used from a thread pool shared by every request (as concurrent.futures users do)."""
    def work():
        ctx = request.dal.notes.context_of_call()
        return ctx.meta.tag, id(ctx)

    seen = [SHARED_POOL.submit(work).result() for _ in range(3)]  # the first call opens the context
    tags = {tag for tag, _ in seen}
    ctx_ids = {ctx_id for _, ctx_id in seen}
    return {"tag": tags.pop() if len(tags) == 1 else sorted(tags), "header": request.headers.get("X-Tag"),
            "ctx": ctx_ids.pop() if len(ctx_ids) == 1 else sorted(ctx_ids), "own": id(request.polydatum_context)}


def send_mail(request):
    """Writes a note and sends a mail through pyramid_mailer, both in request.tm."""
    from pyramid_mailer import get_mailer
    from pyramid_mailer.message import Message

    request.dal.notes.add(int(request.params["id"]), "mailed")
    mailer = get_mailer(request)
    send = mailer.send_to_queue if request.params.get("queue") else mailer.send
    send(Message(subject=f"note {request.params['id']}", sender="app@example.com",
                 recipients=["user@example.com"], body="hello"))
    if request.params.get("fail"):
        raise RuntimeError("failed after sending")
    return {"ok": True}


def doom_and_write(request):
    if request.params.get("when") == "before":
        request.tm.doom()
    note = request.dal.notes.add(int(request.params["id"]), "dry run")
    request.polydatum_context.db.writer.flush()
    if request.params.get("when") == "after":
        request.tm.doom()
    return {"id": note.id, "read_back": request.dal.notes.get(note.id).text}


def untouched(request):
    return {"ok": True}


def whoami(request):
    request.dal
    ctx = request.polydatum_context
    return {"tag": ctx.meta.tag, "header": request.headers.get("X-Tag"), "ctx": id(ctx),
            "identity": ctx.meta.identity}


@exception_view_config(HandledError, renderer="json")
def handled_view(exc, request):
    request.response.status = 422
    return {"error": str(exc)}


@exception_view_config(DBAPIError, renderer="json")
def database_error_view(exc, request):
    request.response.status = 503
    # error pages often read (the user's name, a menu): that must work after a failed commit
    # through .any: the writer's session, used by the failed request, whose transaction just failed
    request.dal
    notes = request.polydatum_context.db.any.scalars(select(Note.id)).all()
    return {"error": "the database refused the change", "notes": len(notes)}


def in_worker_thread(request):
    """The data layer first touched from a worker thread, as some views do for parallel reads."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        texts = pool.submit(lambda: request.dal.notes.texts()).result()
    return {"texts": texts}


def raising_callback(request):
    request.add_finished_callback(lambda request: 1 / 0)  # an app bug in an unrelated finished callback
    request.dal.notes.add(int(request.params["id"]), "kept")
    return {"ok": True}


class IdentityPolicy:
    """A security policy that loads the user through request.dal, as real apps do."""

    def identity(self, request):
        if "user" not in request.params:
            return None
        return {"user": request.params["user"], "notes": len(request.dal.notes.texts())}

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return identity["user"] if identity else None

    def permits(self, request, context, permission):
        return True


def tag_meta(request):
    return {"tag": request.headers.get("X-Tag")}


def main(global_config, **settings):
    """The app factory for ini files (pshell, bootstrap and prequest in the tests)."""
    return make_app(settings)


def make_app(settings: dict, retry: bool = False, includes: tuple[str, ...] = ()):
    settings = {"polydatum.meta_factory": "tests.glue.app.tag_meta", **settings}
    with Configurator(settings=settings) as config:
        if retry:
            config.include("pyramid_retry")
        for name in includes:
            config.include(name)
        config.include("pyramid_polydatum")
        config.set_security_policy(IdentityPolicy())
        config.add_polydatum_service("notes", Notes())
        config.add_polydatum_middleware(audit_middleware)
        for name, path, view in [
            ("create", "/create", create), ("show", "/notes/{id}", show), ("fail", "/fail", fail),
            ("fail_handled", "/fail-handled", fail_handled), ("commit_fails", "/commit-fails", commit_fails),
            ("refuse", "/refuse", refuse), ("retry", "/retry", retry_once),
            ("retry_serialization", "/retry-serialization", retry_serialization),
            ("untouched", "/untouched", untouched), ("create_in_tm", "/create-in-tm", create_in_tm),
            ("shared_pool", "/shared-pool", shared_pool_whoami), ("send_mail", "/send-mail", send_mail),
            ("doom", "/doom", doom_and_write),
            ("whoami", "/whoami", whoami), ("in_worker_thread", "/in-worker-thread", in_worker_thread),
            ("raising_callback", "/raising-callback", raising_callback),
        ]:
            config.add_route(name, path)
            config.add_view(view, route_name=name, renderer="json")
        config.scan("tests.glue.app")
    return config.make_wsgi_app()
