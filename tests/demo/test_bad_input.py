"""Every bad input to the demo is a 4xx with a message, never a 500, on SQLite and on PostgreSQL.

HTML forms come back with the message next to the field (400); the JSON API answers JSON with the status that
says what was wrong. Each test also checks that nothing was stored.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update

from demo_app.models import Item, StockMovement
from demo_app.services import PAGE_SIZE, ItemService
from demo_app.validation import MAX_INTEGER
from tests.demo.pages import alerts, csrf_token

THIRTY_DIGITS = "1" * 30
HUGE = "9" * 20


def count(admin, table) -> int:
    with admin.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def add_item(app, quantity: int = 3) -> dict:
    return app.post_json("/api/items", {"sku": "W-1", "name": "Widget", "quantity": quantity}, status=201).json["item"]


def post_new_item(app, **fields):
    page = app.get("/items/new")
    values = {"sku": "N-1", "name": "New", "quantity": "1", **fields}
    return app.post("/items/new", {"csrf_token": csrf_token(page), **values}, expect_errors=True)


def post_adjust(app, item_id, delta, reason=""):
    page = app.get(f"/items/{item_id}")
    return app.post(f"/items/{item_id}/adjust", {"csrf_token": csrf_token(page), "delta": delta, "reason": reason},
                    expect_errors=True)


# -- integers larger than the column ----------------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "message"), [
    (HUGE, f"At most {MAX_INTEGER}."), (str(MAX_INTEGER + 1), f"At most {MAX_INTEGER}."),
    ("9" * 5000, f"At most {MAX_INTEGER}."), ("-" + HUGE, "Cannot be negative."),
])
def test_a_quantity_larger_than_the_column_is_shown_again_in_the_form(demo, quantity, message):
    app, admin = demo
    response = post_new_item(app, quantity=quantity)
    assert response.status_int == 400
    assert alerts(response) == [message]
    assert response.html.find("input", id="quantity")["value"] == quantity  # the form keeps what was typed
    assert count(admin, Item) == 0


@pytest.mark.parametrize("quantity", [10**20, MAX_INTEGER + 1])
def test_a_quantity_larger_than_the_column_is_a_422_from_the_api(demo, quantity):
    app, admin = demo
    response = app.post_json("/api/items", {"sku": "J-1", "name": "Json", "quantity": quantity}, status=422)
    assert response.json == {"error": "Some values are not valid.", "errors": {"quantity": f"At most {MAX_INTEGER}."}}
    assert count(admin, Item) == 0


def test_a_delta_larger_than_the_column_is_refused(demo):
    app, admin = demo
    item = add_item(app)
    assert alerts(post_adjust(app, item["id"], HUGE)) == [f"Change: At most {MAX_INTEGER}."]
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": -(10**20)}, status=422)
    assert response.json["errors"] == {"delta": f"At least {-MAX_INTEGER}."}
    assert count(admin, StockMovement) == 1  # the initial stock only


def test_leading_zeros_are_still_a_whole_number(demo):
    app, admin = demo
    assert post_new_item(app, quantity="0" * 30 + "7").status_int == 302
    with admin.connect() as conn:
        assert conn.scalar(select(Item.quantity)) == 7


def test_a_stock_that_would_outgrow_the_column_is_a_409(demo):
    app, admin = demo
    item = add_item(app, quantity=MAX_INTEGER - 1)
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": 5}, status=409)
    assert response.json["error"] == f"Cannot apply: {MAX_INTEGER - 1} in stock: at most 1 more fit."
    assert alerts(post_adjust(app, item["id"], "5")) == [
        f"Change: Cannot apply: {MAX_INTEGER - 1} in stock: at most 1 more fit."]
    with admin.connect() as conn:
        assert conn.scalar(select(Item.quantity)) == MAX_INTEGER - 1


# -- ids in URLs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/items/{id}", "/items/{id}/edit", "/items/{id}/delete", "/api/items/{id}"])
def test_a_thirty_digit_item_id_is_a_404(demo, path):
    app, _ = demo
    add_item(app)
    response = app.get(path.format(id=THIRTY_DIGITS), status=404)
    message = f"There is no item {THIRTY_DIGITS}."
    assert (response.json == {"error": message}) if path.startswith("/api/") else (message in response.text)


def test_a_thirty_digit_item_id_is_a_404_for_writes_too(demo):
    app, _ = demo
    add_item(app)
    page = app.get("/items/new")
    app.post(f"/items/{THIRTY_DIGITS}/adjust", {"csrf_token": csrf_token(page), "delta": "1"}, status=404)
    assert app.post_json(f"/api/items/{THIRTY_DIGITS}/adjust", {"delta": 1}, status=404).json == {
        "error": f"There is no item {THIRTY_DIGITS}."}


def test_an_id_in_other_digits_than_ascii_is_not_an_item(demo):
    app, _ = demo
    add_item(app)
    app.get("/items/%D9%A1", status=404)  # ARABIC-INDIC DIGIT ONE: int() would read it as 1


# -- text longer than its column, NUL bytes, invalid text ------------------------------------------------------


def test_a_stock_reason_longer_than_its_column_is_refused(demo):
    app, admin = demo
    item = add_item(app)
    response = post_adjust(app, item["id"], "2", reason="r" * 201)
    assert response.status_int == 400 and alerts(response) == ["Reason: At most 200 characters."]
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": 2, "reason": "r" * 201}, status=422)
    assert response.json["errors"] == {"reason": "At most 200 characters."}
    assert count(admin, StockMovement) == 1
    app.post_json(f"/api/items/{item['id']}/adjust", {"delta": 2, "reason": "r" * 200}, status=200)  # the limit fits


@pytest.mark.parametrize("field", ["sku", "name", "description"])
def test_a_nul_byte_in_a_text_field_is_shown_again_in_the_form(demo, field):
    app, admin = demo
    response = post_new_item(app, **{field: "bad\x00text"})
    assert response.status_int == 400 and alerts(response) == ["Cannot contain a NUL character."]
    assert count(admin, Item) == 0


def test_a_nul_byte_in_a_name_is_a_422_from_the_api(demo):
    app, admin = demo
    response = app.post_json("/api/items", {"sku": "J-1", "name": "bad\x00name"}, status=422)
    assert response.json["errors"] == {"name": "Cannot contain a NUL character."}
    item = add_item(app)
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": 1, "reason": "\x00"}, status=422)
    assert response.json["errors"] == {"reason": "Cannot contain a NUL character."}
    assert count(admin, Item) == 1


def test_a_nul_byte_in_an_edit_is_shown_again(demo):
    app, admin = demo
    item = add_item(app)
    edit = app.get(f"/items/{item['id']}/edit")
    response = app.post(f"/items/{item['id']}/edit", {"csrf_token": csrf_token(edit), "sku": "W-1",
                                                      "name": "W\x00"}, status=400)
    assert alerts(response) == ["Cannot contain a NUL character."]
    with admin.connect() as conn:
        assert conn.scalar(select(Item.name)) == "Widget"


def test_a_nul_byte_in_the_search_is_a_400(demo):
    app, _ = demo
    add_item(app)
    page = app.get("/search", {"q": "wid\x00get"}, status=400)
    assert alerts(page) == ["Search text (?q=): Cannot contain a NUL character."]
    assert app.get("/api/items", {"q": "\x00"}, status=400).json == {
        "error": "Search text (?q=): Cannot contain a NUL character."}


def test_a_lone_surrogate_is_not_text(demo):
    app, admin = demo
    response = app.post("/api/items", b'{"sku": "S-1", "name": "\\ud800"}', content_type="application/json",
                        status=422)
    assert response.json["errors"] == {"name": "Is not valid Unicode text."}
    assert count(admin, Item) == 0


def test_parameters_that_are_not_utf8_are_a_400(demo):
    app, _ = demo
    page = app.get("/search?q=%ff", status=400)
    assert alerts(page) == ["The request's parameters are not valid UTF-8 text."]
    assert app.get("/api/items?q=%ff", status=400).json == {
        "error": "The request's parameters are not valid UTF-8 text."}


# -- the JSON API's body --------------------------------------------------------------------------------------


@pytest.mark.parametrize("delta", [1.9, True, "3", None])
def test_a_delta_that_is_not_a_json_integer_is_a_422(demo, delta):
    app, admin = demo
    item = add_item(app)
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": delta}, status=422)
    assert response.json["errors"] == {"delta": "A whole number (a JSON integer), please."}
    with admin.connect() as conn:
        assert conn.scalar(select(Item.quantity)) == 3


@pytest.mark.parametrize("delta", ["1.9", "true", "", "0x10"])
def test_a_delta_that_is_not_a_whole_number_is_shown_again_in_the_form(demo, delta):
    app, admin = demo
    item = add_item(app)
    response = post_adjust(app, item["id"], delta)
    assert response.status_int == 400 and alerts(response) == ["Change: A whole number, please."]
    assert count(admin, StockMovement) == 1


@pytest.mark.parametrize("value", [["Widget"], {"name": "Widget"}, 7, None])
def test_a_list_or_object_where_a_string_is_expected_is_a_422(demo, value):
    app, admin = demo
    response = app.post_json("/api/items", {"sku": "J-1", "name": value}, status=422)
    assert response.json["errors"] == {"name": "Must be a string."}
    item = add_item(app)
    response = app.post_json(f"/api/items/{item['id']}/adjust", {"delta": 1, "reason": value}, status=422)
    assert response.json["errors"] == {"reason": "Must be a string."}
    assert count(admin, Item) == 1


def test_a_text_plain_body_is_a_415(demo):
    app, admin = demo
    response = app.post("/api/items", '{"sku": "J-1", "name": "Json"}', content_type="text/plain", status=415)
    assert response.json == {"error": "Send the body as JSON, with Content-Type: application/json."}
    item = add_item(app)
    app.post(f"/api/items/{item['id']}/adjust", '{"delta": 1}', content_type="text/plain", status=415)
    app.post("/api/items", {"sku": "J-1", "name": "Form"}, status=415)  # a form post to the API
    assert count(admin, Item) == 1


def test_a_body_that_is_not_json_is_a_400(demo):
    app, admin = demo
    response = app.post("/api/items", "{not json", content_type="application/json", status=400)
    assert response.json["error"].startswith("The body is not valid JSON: ")
    assert count(admin, Item) == 0


@pytest.mark.parametrize("body", [[], "text", 3])
def test_a_body_that_is_not_a_json_object_is_a_422(demo, body):
    app, admin = demo
    assert app.post_json("/api/items", body, status=422).json == {"error": "The body must be a JSON object."}
    assert count(admin, Item) == 0


def test_a_sku_taken_between_the_check_and_the_insert_is_a_409(demo, monkeypatch):
    """Two requests with the same SKU at once: the unique constraint decides, the loser gets a 409."""
    app, admin = demo
    add_item(app)
    monkeypatch.setattr(ItemService, "sku_taken", lambda self, sku, except_id=None: False)  # the other request won
    response = app.post_json("/api/items", {"sku": "W-1", "name": "Second", "quantity": 4}, status=409)
    assert response.json == {"error": "The change conflicts with data stored meanwhile; reload and try again."}
    page = post_new_item(app, sku="W-1")
    assert page.status_int == 409 and alerts(page) == [
        "The change conflicts with data stored meanwhile; reload and try again."]
    with admin.connect() as conn:
        assert conn.execute(select(Item.name, Item.quantity)).all() == [("Widget", 3)]


def test_a_form_without_its_csrf_token_says_why(demo):
    app, admin = demo
    response = app.post("/items/new", {"sku": "X", "name": "x"}, status=400)
    assert alerts(response) == [
        "This form was not sent by this site's page, or the page is too old: reload it and try again."]
    assert count(admin, Item) == 0


# -- methods --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_put_patch_and_delete_on_an_item_are_405_with_allow(demo, method):
    app, admin = demo
    item = add_item(app)
    page = app.request(f"/items/{item['id']}", method=method, status=405)
    assert page.headers["Allow"] == "GET, HEAD"
    assert alerts(page) == [f"{method} is not allowed here; use GET, HEAD."]
    api = app.request(f"/api/items/{item['id']}", method=method, status=405)
    assert api.headers["Allow"] == "GET, HEAD"
    assert api.json == {"error": f"{method} is not allowed here; use GET, HEAD.", "allowed": ["GET", "HEAD"]}
    assert count(admin, Item) == 1


def test_every_route_answers_405_for_the_methods_it_does_not_take(demo):
    app, _ = demo
    item = add_item(app)
    expected = {
        "/": {"GET"}, "/about": {"GET"}, "/search": {"GET"}, "/items/new": {"GET", "POST"},
        "/items/{id}": {"GET"}, "/items/{id}/edit": {"GET", "POST"}, "/items/{id}/adjust": {"POST"},
        "/items/{id}/delete": {"GET", "POST"}, "/api/items": {"GET", "POST"}, "/api/items/{id}": {"GET"},
        "/api/items/{id}/adjust": {"POST"},
    }
    for pattern, methods in expected.items():
        path = pattern.format(id=item["id"])
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method in methods:
                continue
            response = app.request(path, method=method, expect_errors=True)
            assert response.status_int == 405, (method, path, response.status)
            allowed = sorted(methods | ({"HEAD"} if "GET" in methods else set()))
            assert sorted(response.headers["Allow"].split(", ")) == allowed, (method, path)


# -- pagination -----------------------------------------------------------------------------------------------


def test_the_list_is_paginated_and_its_title_counts_what_there_is(demo):
    app, admin = demo
    total = PAGE_SIZE + 8
    with admin.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"P-{n:03}", "name": f"Part {n:03}", "description": "", "quantity": n}
                                    for n in range(total)])
    first = app.get("/")
    assert f"Items <small>({total})</small>" in first.text
    assert f"Showing 1\N{EN DASH}{PAGE_SIZE} of {total}." in first.text
    assert len(first.html.select("tbody tr")) == PAGE_SIZE
    assert first.html.find("a", rel="next")["href"] == "http://localhost/?page=2"
    assert first.html.find("a", rel="prev") is None
    second = app.get(first.html.find("a", rel="next")["href"])
    rows = second.html.select("tbody tr")
    assert len(rows) == 8 and f"Showing {PAGE_SIZE + 1}\N{EN DASH}{total} of {total}." in second.text
    assert "Part 057" in rows[-1].get_text()
    assert second.html.find("a", rel="prev")["href"] == "http://localhost/?page=1"
    assert second.html.find("a", rel="next") is None
    assert second.html.find(attrs={"aria-current": "page"}).get_text() == "2"


def test_search_results_are_paginated_too(demo):
    app, admin = demo
    with admin.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"S-{n:03}", "name": f"Screw {n:03}", "description": "", "quantity": 1}
                                    for n in range(PAGE_SIZE + 2)])
        conn.execute(insert(Item), [{"sku": "N-1", "name": "Nail", "description": "", "quantity": 1}])
    found = app.get("/search", {"q": "screw"})
    assert f"<small>({PAGE_SIZE + 2})</small>" in found.text and len(found.html.select("tbody tr")) == PAGE_SIZE
    assert found.html.find("a", rel="next")["href"] == "http://localhost/search?q=screw&page=2"
    api = app.get("/api/items", {"q": "screw", "page": "2"}).json
    assert (api["total"], api["page"], api["pages"], api["next"]) == (PAGE_SIZE + 2, 2, 2, None)
    assert [i["name"] for i in api["items"]] == [f"Screw {PAGE_SIZE:03}", f"Screw {PAGE_SIZE + 1:03}"]
    assert app.get("/api/items").json["next"] == "http://localhost/api/items?page=2"


@pytest.mark.parametrize(("page", "status", "message"), [
    ("0", 400, "Page number (?page=): At least 1."),
    ("two", 400, "Page number (?page=): A whole number, please."),
    (THIRTY_DIGITS, 400, f"Page number (?page=): At most {MAX_INTEGER}."),
    ("3", 404, "There is no page 3."),
])
def test_a_page_that_does_not_exist_is_a_4xx(demo, page, status, message):
    app, admin = demo
    with admin.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"P-{n}", "name": "Part", "description": "", "quantity": 1}
                                    for n in range(PAGE_SIZE + 1)])
    assert message in app.get("/", {"page": page}, status=status).text
    assert app.get("/api/items", {"page": page}, status=status).json == {"error": message}


def test_page_one_of_an_empty_list_exists(demo):
    app, _ = demo
    assert "No items yet" in app.get("/", {"page": "1"}).text


def test_an_item_whose_stock_was_set_to_the_maximum_still_shows(demo):
    """Values at the column's limit are valid: only those past it are refused."""
    app, admin = demo
    item = add_item(app)
    with admin.begin() as conn:
        conn.execute(update(Item).values(quantity=MAX_INTEGER))
    assert f"<strong>{MAX_INTEGER}</strong>" in app.get(f"/items/{item['id']}").text
