"""HTML pages and a small JSON API, all through ``request.dal``."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound
from pyramid.view import notfound_view_config, view_config

from pyramid_polydatum import NotFound

from .forms import ItemForm


def item_or_404(request):
    try:
        item_id = int(request.matchdict["id"])
    except ValueError:
        raise HTTPNotFound() from None
    item = request.dal.items.get(item_id)
    if item is None:
        raise HTTPNotFound()
    return item


@view_config(route_name="home", renderer="templates/list.mako")
def list_items(request):
    return {"items": request.dal.items.list(), "count": request.dal.items.count(), "query": ""}


@view_config(route_name="about", renderer="templates/about.mako")
def about(request):
    return {}


@view_config(route_name="search", renderer="templates/list.mako")
def search_items(request):
    query = request.params.get("q", "")
    items = request.dal.items.search(query) if query.strip() else request.dal.items.list()
    return {"items": items, "count": len(items), "query": query}


@view_config(route_name="item", renderer="templates/detail.mako")
def show_item(request):
    return {"item": item_or_404(request), "error": None}


@view_config(route_name="new", renderer="templates/form.mako", request_method="GET")
def new_form(request):
    return {"form": ItemForm(), "item": None}


@view_config(route_name="new", renderer="templates/form.mako", request_method="POST")
def create_item(request):
    form = ItemForm.from_params(request.POST)
    if not form.validate(sku_taken=form.sku != "" and request.dal.items.sku_taken(form.sku)):
        request.response.status = 400
        return {"form": form, "item": None}
    item = request.dal.items.create(form.sku, form.name, form.description, form.quantity_value)
    return HTTPFound(request.route_url("item", id=item.id))


@view_config(route_name="edit", renderer="templates/form.mako", request_method="GET")
def edit_form(request):
    item = item_or_404(request)
    return {"form": ItemForm(sku=item.sku, name=item.name, description=item.description), "item": item}


@view_config(route_name="edit", renderer="templates/form.mako", request_method="POST")
def update_item(request):
    item = item_or_404(request)
    form = ItemForm.from_params(request.POST)
    if not form.validate(sku_taken=request.dal.items.sku_taken(form.sku, except_id=item.id), with_quantity=False):
        request.response.status = 400
        return {"form": form, "item": item}
    request.dal.items.update(item.id, form.sku, form.name, form.description)
    return HTTPFound(request.route_url("item", id=item.id))


@view_config(route_name="adjust", renderer="templates/detail.mako", request_method="POST")
def adjust_stock(request):
    item = item_or_404(request)
    try:
        delta = int(request.POST.get("delta", ""))
        request.dal.items.stock.adjust(item.id, delta, request.POST.get("reason", "").strip() or "manual")
    except ValueError as error:
        request.response.status = 400
        message = "A whole number, please." if "invalid literal" in str(error) else str(error)
        return {"item": item, "error": message}
    return HTTPFound(request.route_url("item", id=item.id))


@view_config(route_name="delete", request_method="POST")
def delete_item(request):
    item = item_or_404(request)
    request.dal.items.delete(item.id)
    return HTTPFound(request.route_url("home"))


# -- JSON API ---------------------------------------------------------------------------------------------------


@view_config(route_name="api_items", renderer="json", request_method="GET")
def api_list(request):
    query = request.params.get("q", "")
    items = request.dal.items.search(query) if query.strip() else request.dal.items.list()
    return {"items": [item.as_json() for item in items]}


@view_config(route_name="api_items", renderer="json", request_method="POST", require_csrf=False)
def api_create(request):
    try:
        body = request.json_body
    except ValueError:
        raise HTTPBadRequest(json_body={"errors": {"body": "expected a JSON object"}}) from None
    if not isinstance(body, dict):
        raise HTTPBadRequest(json_body={"errors": {"body": "expected a JSON object"}})
    form = ItemForm.from_params(body)
    if not form.validate(sku_taken=form.sku != "" and request.dal.items.sku_taken(form.sku)):
        request.response.status = 400
        return {"errors": form.errors}
    item = request.dal.items.create(form.sku, form.name, form.description, form.quantity_value)
    request.response.status = 201
    # read back in the same request: the writer's session has it, even before the commit
    return {"item": request.dal.items.get(item.id).as_json()}


@view_config(route_name="api_item", renderer="json", request_method="GET")
def api_show(request):
    return {"item": item_or_404(request).as_json()}


@view_config(route_name="api_adjust", renderer="json", request_method="POST", require_csrf=False)
def api_adjust(request):
    item = item_or_404(request)
    try:
        delta = int(request.json_body.get("delta"))
        item = request.dal.items.stock.adjust(item.id, delta, str(request.json_body.get("reason", "api")))
    except (TypeError, ValueError, AttributeError) as error:
        request.response.status = 400
        return {"errors": {"delta": str(error) if "stock" in str(error) else "a whole number is required"}}
    except NotFound:
        raise HTTPNotFound() from None
    return {"item": item.as_json()}


@notfound_view_config(renderer="templates/notfound.mako", append_slash=True)
def not_found(request):
    request.response.status = 404
    if request.path.startswith("/api/"):
        request.override_renderer = "json"
        return {"error": "not found"}
    return {}
