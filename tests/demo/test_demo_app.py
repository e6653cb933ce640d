"""demo_app through WebTest on SQLite and PostgreSQL: pages, forms, search, the JSON API, audit, errors."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import event, select

from demo_app import main
from demo_app.models import AuditEntry, Item
from pyramid_polydatum.glue import get_engines
from tests.demo.pages import csrf_token


def test_create_through_the_form_then_list_show_edit_and_search(demo):
    app, admin = demo
    assert "No items yet" in app.get("/").text
    form_page = app.get("/items/new")
    created = app.post("/items/new", {"csrf_token": csrf_token(form_page), "sku": "W-1", "name": "Widget",
                                      "description": "a <b>bold</b> claim", "quantity": "7"}, status=302)
    detail = created.follow()
    assert "Widget" in detail.text and "<strong>7</strong>" in detail.text
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in detail.text  # escaped, never raw HTML
    assert "initial stock" in detail.text
    item_url = created.location
    edit = app.get(item_url + "/edit")
    app.post(item_url + "/edit", {"csrf_token": csrf_token(edit), "sku": "W-1", "name": "Widget Pro"}, status=302)
    assert "Widget Pro" in app.get("/").text
    assert "Widget Pro" in app.get("/search", {"q": "pro"}).text
    assert "No items match" in app.get("/search", {"q": "100%"}).text
    with admin.connect() as conn:
        assert conn.execute(select(Item.name, Item.quantity)).one() == ("Widget Pro", 7)


def test_an_invalid_form_is_a_400_with_messages_and_stores_nothing(demo):
    app, admin = demo
    form_page = app.get("/items/new")
    response = app.post("/items/new", {"csrf_token": csrf_token(form_page), "sku": "", "name": "x",
                                       "quantity": "many"}, status=400)
    assert "A SKU is required." in response.text and "A whole number, please." in response.text
    with admin.connect() as conn:
        assert conn.execute(select(Item)).all() == []


def test_a_form_without_its_csrf_token_is_refused(demo):
    app, _ = demo
    app.post("/items/new", {"sku": "X", "name": "x"}, status=400)


def test_missing_items_are_404_pages_never_tracebacks(demo):
    app, _ = demo
    assert "There is no item 999." in app.get("/items/999", status=404).text
    assert "There is nothing at /items/not-a-number." in app.get("/items/not-a-number", status=404).text
    assert app.get("/api/items/999", status=404).json == {"error": "There is no item 999."}
    assert app.get("/api/nothing", status=404).json == {"error": "There is nothing at /api/nothing."}


def test_the_json_api_reads_its_own_write_and_reports_errors(demo):
    app, admin = demo
    created = app.post_json("/api/items", {"sku": "J-1", "name": "Json", "quantity": 3}, status=201).json
    assert created["item"]["quantity"] == 3
    item_id = created["item"]["id"]
    assert app.get(f"/api/items/{item_id}").json["item"]["name"] == "Json"
    assert app.post_json("/api/items", {"sku": "J-1", "name": "Dup"}, status=409).json == {
        "error": "Another item already has this SKU.", "errors": {"sku": "Another item already has this SKU."}}
    assert app.post_json(f"/api/items/{item_id}/adjust", {"delta": -5}, status=409).json == {
        "error": "Cannot apply: only 3 in stock.", "errors": {"delta": "only 3 in stock"}}
    assert app.post_json(f"/api/items/{item_id}/adjust", {"delta": -2}).json["item"]["quantity"] == 1
    app.post("/api/items", "not json", content_type="application/json", status=400)
    with admin.connect() as conn:
        assert conn.execute(select(Item.quantity)).scalar_one() == 1


def test_every_change_is_audited_on_the_logger_engine(demo):
    app, admin = demo
    app.post_json("/api/items", {"sku": "A-1", "name": "Audited"}, status=201)
    app.post_json("/api/items", {"sku": "A-1", "name": "Duplicate"}, status=409)  # refused, not a failure
    app.post_json("/api/items", {"sku": "", "name": ""}, status=422)  # never touched the data layer
    app.post_json("/api/items/1/adjust", {"delta": "x"}, status=422)
    app.get("/api/items")
    with admin.connect() as conn:
        rows = conn.execute(select(AuditEntry.method, AuditEntry.path, AuditEntry.outcome)
                            .order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [
        ("POST", "/api/items", "ok"), ("POST", "/api/items", "ok"), ("POST", "/api/items/1/adjust", "ok"),
    ]


def test_deleting_an_item_removes_it_and_its_movements(demo):
    app, admin = demo
    item = app.post_json("/api/items", {"sku": "D-1", "name": "Doomed", "quantity": 2}, status=201).json["item"]
    page = app.get(f"/items/{item['id']}")
    confirm = app.get(page.html.find("a", string="Delete…")["href"])
    assert "Delete Doomed" in confirm.text and "2 stock movements" not in confirm.text  # one: "initial stock"
    assert "its 1 stock movement will be removed" in confirm.text
    with admin.connect() as conn:
        assert len(conn.execute(select(Item)).all()) == 1  # showing the confirmation deleted nothing
    listing = app.post(f"/items/{item['id']}/delete", {"csrf_token": csrf_token(confirm)}, status=302).follow()
    assert "Deleted Doomed (D-1)." in listing.text
    app.get(f"/items/{item['id']}", status=404)
    with admin.connect() as conn:
        assert conn.execute(select(Item)).all() == []


def test_a_failed_commit_in_the_api_is_a_json_500_and_is_logged(demo, caplog):
    app, admin = demo
    engine = get_engines(app.app.registry).writer.engine

    def fail(conn):
        raise OSError("disk full at COMMIT")

    event.listen(engine, "commit", fail)
    try:
        response = app.post_json("/api/items", {"sku": "F-1", "name": "Failed"}, status=500)
    finally:
        event.remove(engine, "commit", fail)
    assert response.json == {"error": "The server failed to answer this request; the error is logged."}
    assert any("POST /api/items failed" in r.getMessage() and r.exc_info for r in caplog.records)
    with admin.connect() as conn:
        assert conn.execute(select(Item)).all() == []


def test_a_missing_session_secret_is_a_configuration_error_naming_the_setting(sqlite_database, monkeypatch):
    monkeypatch.delenv("DEMO_SESSION_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match=r"setting demo\.session_secret"):
        main({}, **{"polydatum.engine.writer.url": sqlite_database.writer_url})
