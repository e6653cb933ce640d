<%inherit file="layout.mako"/>
<%block name="title">${'Search: ' + query if query else 'Items'}</%block>
% if request.session.peek_flash():
  % for message in request.session.pop_flash():
  <p class="flash" role="status">${message}</p>
  % endfor
% endif
% if error:
  <h1>Items</h1>
  <p class="error" role="alert">${error}</p>
% else:
% if query:
  <h1>Items matching “${query}” <small>(${page.total})</small></h1>
% else:
  <h1>Items <small>(${page.total})</small></h1>
% endif
% if page.items:
<p class="range">Showing ${page.first}–${page.last} of ${page.total}.</p>
<table>
  <thead><tr><th>SKU</th><th>Name</th><th class="num">In stock</th></tr></thead>
  <tbody>
  % for item in page.items:
    <tr>
      <td><code>${item.sku}</code></td>
      <td><a href="${request.route_url('item', id=item.id)}">${item.name}</a></td>
      <td class="num">${item.quantity}</td>
    </tr>
  % endfor
  </tbody>
</table>
% if page.pages > 1:
<%
  def page_url(number):
      params = {"q": query, "page": number} if query else {"page": number}
      return request.current_route_url(_query=params)
%>
<nav class="pages" aria-label="Pages">
  % if page.number > 1:
    <a rel="prev" href="${page_url(page.number - 1)}">« Previous</a>
  % endif
  % for number in range(1, page.pages + 1):
    % if number == page.number:
      <strong aria-current="page">${number}</strong>
    % else:
      <a href="${page_url(number)}">${number}</a>
    % endif
  % endfor
  % if page.number < page.pages:
    <a rel="next" href="${page_url(page.number + 1)}">Next »</a>
  % endif
</nav>
% endif
% else:
  <p class="empty">No items${' match' if query else ' yet'}. <a href="${request.route_url('new')}">Add one</a>.</p>
% endif
% endif
