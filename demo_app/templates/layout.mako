<%! from pyramid.csrf import get_csrf_token %>
<%! from demo_app.errors import search_text %>
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title><%block name="title">Inventory</%block> · pyramid_polydatum demo</title>
  <link rel="stylesheet" href="${request.static_url('demo_app:static/style.css')}">
</head>
<body>
  <header>
    <a class="brand" href="${request.route_url('home')}">Inventory</a>
    <form class="search" action="${request.route_url('search')}" method="get" role="search">
      <input type="search" name="q" value="${search_text(request)}" placeholder="Search name or SKU" aria-label="Search">
      <button type="submit">Search</button>
    </form>
    <a class="button" href="${request.route_url('new')}">New item</a>
  </header>
  <main>
    ${next.body()}
  </main>
  <footer>pyramid_polydatum demo · JSON API at <a href="${request.route_url('api_items')}">/api/items</a> ·
    <a href="${request.route_url('about')}">About</a></footer>
</body>
</html>
<%def name="csrf_field()">
  <input type="hidden" name="csrf_token" value="${get_csrf_token(request)}">
</%def>
