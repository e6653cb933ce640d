<%inherit file="layout.mako"/>
<%block name="title">${'Search: ' + query if query else 'Items'}</%block>
% if query:
  <h1>Items matching “${query}”</h1>
% else:
  <h1>Items <small>(${count})</small></h1>
% endif
% if items:
<table>
  <thead><tr><th>SKU</th><th>Name</th><th class="num">In stock</th></tr></thead>
  <tbody>
  % for item in items:
    <tr>
      <td><code>${item.sku}</code></td>
      <td><a href="${request.route_url('item', id=item.id)}">${item.name}</a></td>
      <td class="num">${item.quantity}</td>
    </tr>
  % endfor
  </tbody>
</table>
% else:
  <p class="empty">No items${' match' if query else ' yet'}. <a href="${request.route_url('new')}">Add one</a>.</p>
% endif
