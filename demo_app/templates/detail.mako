<%inherit file="layout.mako"/>
<%namespace file="layout.mako" import="csrf_field"/>
<%block name="title">${item.name}</%block>
<h1>${item.name} <small><code>${item.sku}</code></small></h1>
% if item.description:
  <p>${item.description}</p>
% endif
<p class="stock">In stock: <strong>${item.quantity}</strong></p>
<form method="post" action="${request.route_url('adjust', id=item.id)}" class="inline">
  ${csrf_field()}
  <label>Change <input name="delta" size="5" required></label>
  <label>Reason <input name="reason" size="20"></label>
  <button type="submit">Apply</button>
  % if error:
    <span class="error" role="alert">${error}</span>
  % endif
</form>
<div class="actions">
  <a class="button" href="${request.route_url('edit', id=item.id)}">Edit</a>
  <form method="post" action="${request.route_url('delete', id=item.id)}" class="inline">
    ${csrf_field()}
    <button type="submit" class="danger">Delete</button>
  </form>
</div>
<h2>Stock movements</h2>
% if item.movements:
<table>
  <thead><tr><th>When (UTC)</th><th class="num">Change</th><th>Reason</th></tr></thead>
  <tbody>
  % for movement in item.movements:
    <tr><td>${movement.at.strftime('%Y-%m-%d %H:%M:%S')}</td><td class="num">${'%+d' % movement.delta}</td><td>${movement.reason}</td></tr>
  % endfor
  </tbody>
</table>
% else:
  <p class="empty">No movements.</p>
% endif
