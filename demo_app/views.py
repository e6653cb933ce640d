"""HTML pages and a small JSON API, all through ``request.dal``.

Every bad input is answered before it reaches the database: HTML forms are shown again with the message (400),
the JSON API answers JSON: 400 for a body that is not JSON, 415 for one that is not sent as JSON, 422 for values
of the wrong type or out of range, 409 for a conflict with what is stored, 404 and 405 (see ``routes``).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from pyramid_polydatum import NotFound

from .errors import Missing, error_response
from .forms import ItemForm, StockForm
from .services import Page, StockConflict
from .validation import MAX_INTEGER, parse_whole_number, text_error
from .validation import item_id as parse_item_id


def item_or_404(request: Any) -> Any:
    item_id = parse_item_id(request.matchdict["id"])
    item = request.dal.items.get(item_id) if item_id is not None else None
    if item is None:
        raise Missing(f"There is no item {request.matchdict['id']}.")
    return item


class BadQuery(Exception):
    """A query string parameter no page can be made of."""


def requested_page(request: Any) -> Page:
    """The page of items named by ``?q=`` and ``?page=``; BadQuery for a bad value, Missing past the end."""
    query = request.params.get("q", "")
    problem = text_error(query, max_length=200)
    if problem:
        raise BadQuery(f"Search text (?q=): {problem}")
    number, problem = parse_whole_number(request.params.get("page", "1"), minimum=1, maximum=MAX_INTEGER)
    if number is None:
        raise BadQuery(f"Page number (?page=): {problem}")
    page = request.dal.items.page(number, query)
    if page is None:
        raise Missing(f"There is no page {number}.")
    return page


def list_page(request: Any) -> Any:
    query = request.params.get("q", "")
    try:
        page = requested_page(request)
    except BadQuery as error:
        request.response.status = 400
        return {"page": None, "query": "", "error": str(error)}
    return {"page": page, "query": query, "error": None}


@view_config(route_name="home", renderer="templates/list.mako", request_method="GET")
def list_items(request: Any) -> Any:
    return list_page(request)


@view_config(route_name="search", renderer="templates/list.mako", request_method="GET")
def search_items(request: Any) -> Any:
    return list_page(request)


@view_config(route_name="about", renderer="templates/about.mako", request_method="GET")
def about(request: Any) -> Any:
    return {}


@view_config(route_name="item", renderer="templates/detail.mako", request_method="GET")
def show_item(request: Any) -> Any:
    return {"item": item_or_404(request), "form": StockForm()}


@view_config(route_name="new", renderer="templates/form.mako", request_method="GET")
def new_form(request: Any) -> Any:
    return {"form": ItemForm(), "item": None}


@view_config(route_name="new", renderer="templates/form.mako", request_method="POST")
def create_item(request: Any) -> Any:
    form = ItemForm.from_params(request.POST)
    if not (form.validate() and form.sku_is_free(request.dal.items.sku_taken(form.sku))):
        request.response.status = 400
        return {"form": form, "item": None}
    item = request.dal.items.create(form.sku, form.name, form.description, form.quantity_value)
    return HTTPFound(request.route_url("item", id=item.id))


@view_config(route_name="edit", renderer="templates/form.mako", request_method="GET")
def edit_form(request: Any) -> Any:
    item = item_or_404(request)
    return {"form": ItemForm(sku=item.sku, name=item.name, description=item.description), "item": item}


@view_config(route_name="edit", renderer="templates/form.mako", request_method="POST")
def update_item(request: Any) -> Any:
    item = item_or_404(request)
    form = ItemForm.from_params(request.POST)
    if not (form.validate(with_quantity=False)
            and form.sku_is_free(request.dal.items.sku_taken(form.sku, except_id=item.id))):
        request.response.status = 400
        return {"form": form, "item": item}
    request.dal.items.update(item.id, form.sku, form.name, form.description)
    return HTTPFound(request.route_url("item", id=item.id))


@view_config(route_name="adjust", renderer="templates/detail.mako", request_method="POST")
def adjust_stock(request: Any) -> Any:
    item = item_or_404(request)
    form = StockForm.from_params(request.POST)
    if form.validate():
        try:
            request.dal.items.stock.adjust(item.id, form.delta_value, form.reason)
        except StockConflict as error:
            form.errors["delta"] = f"Cannot apply: {error}."
        else:
            return HTTPFound(request.route_url("item", id=item.id))
    request.response.status = 400
    return {"item": item, "form": form}


@view_config(route_name="delete", renderer="templates/delete.mako", request_method="GET")
def confirm_delete(request: Any) -> Any:
    return {"item": item_or_404(request)}


@view_config(route_name="delete", request_method="POST")
def delete_item(request: Any) -> Any:
    item = item_or_404(request)
    request.dal.items.delete(item.id)
    request.session.flash(f"Deleted {item.name} ({item.sku}).")
    return HTTPFound(request.route_url("home"))


# -- JSON API ---------------------------------------------------------------------------------------------------


def json_object(request: Any) -> dict[str, Any] | Any:
    """The request's JSON object, or the error response to send instead (415, 400 or 422)."""
    if request.content_type != "application/json":
        return error_response(request, 415, "Send the body as JSON, with Content-Type: application/json.")
    try:
        body = request.json_body
    except ValueError as error:  # not UTF-8, or not JSON
        return error_response(request, 400, f"The body is not valid JSON: {error}.")
    if not isinstance(body, dict):
        return error_response(request, 422, "The body must be a JSON object.")
    return body


def validation_failed(request: Any, errors: dict[str, str]) -> Any:
    return error_response(request, 422, "Some values are not valid.", errors=errors)


@view_config(route_name="api_items", renderer="json", request_method="GET")
def api_list(request: Any) -> Any:
    try:
        page = requested_page(request)
    except BadQuery as error:
        return error_response(request, 400, str(error))
    following = None
    if page.number < page.pages:
        following = request.route_url("api_items", _query={**request.GET, "page": page.number + 1})
    return {"items": [item.as_json() for item in page.items], "total": page.total, "page": page.number,
            "pages": page.pages, "next": following}


@view_config(route_name="api_items", renderer="json", request_method="POST", require_csrf=False)
def api_create(request: Any) -> Any:
    body = json_object(request)
    if not isinstance(body, dict):
        return body
    form = ItemForm.from_json(body)
    if not form.validate():
        return validation_failed(request, form.errors)
    if not form.sku_is_free(request.dal.items.sku_taken(form.sku)):
        return error_response(request, 409, "Another item already has this SKU.", errors=form.errors)
    item = request.dal.items.create(form.sku, form.name, form.description, form.quantity_value)
    request.response.status = 201
    request.response.location = request.route_url("api_item", id=item.id)
    # read back in the same request: the writer's session has it, even before the commit
    return {"item": request.dal.items.get(item.id).as_json()}


@view_config(route_name="api_item", renderer="json", request_method="GET")
def api_show(request: Any) -> Any:
    return {"item": item_or_404(request).as_json()}


@view_config(route_name="api_adjust", renderer="json", request_method="POST", require_csrf=False)
def api_adjust(request: Any) -> Any:
    item = item_or_404(request)
    body = json_object(request)
    if not isinstance(body, dict):
        return body
    form = StockForm.from_json(body)
    if not form.validate():
        return validation_failed(request, form.errors)
    try:
        item = request.dal.items.stock.adjust(item.id, form.delta_value, form.reason)
    except StockConflict as error:
        return error_response(request, 409, f"Cannot apply: {error}.", errors={"delta": str(error)})
    except NotFound:
        raise Missing(f"There is no item {item.id}.") from None
    return {"item": item.as_json()}
