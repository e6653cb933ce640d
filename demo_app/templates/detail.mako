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
  <label>Change <input name="delta" size="5" required value="${form.delta}"></label>
  <label>Reason <input name="reason" size="20" maxlength="200" value="${'' if form.reason == 'manual' else form.reason}"></label>
  <button type="submit">Apply</button>
  % for field in ('delta', 'reason'):
    % if field in form.errors:
      <span class="error" role="alert">${'Change' if field == 'delta' else 'Reason'}: ${form.errors[field]}</span>
    % endif
  % endfor
</form>
<div class="actions">
  <a class="button" href="${request.route_url('edit', id=item.id)}">Edit</a>
  <a class="button danger" href="${request.route_url('delete', id=item.id)}">Delete…</a>
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
