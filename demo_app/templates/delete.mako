<%inherit file="layout.mako"/>
<%namespace file="layout.mako" import="csrf_field"/>
<%block name="title">Delete ${item.name}?</%block>
<h1>Delete ${item.name} <small><code>${item.sku}</code></small>?</h1>
<p>The item and its ${len(item.movements)} stock movement${'' if len(item.movements) == 1 else 's'} will be removed.
This cannot be undone.</p>
<div class="actions">
  <form method="post" action="${request.route_url('delete', id=item.id)}" class="inline">
    ${csrf_field()}
    <button type="submit" class="danger">Delete for good</button>
  </form>
  <a href="${request.route_url('item', id=item.id)}">Cancel</a>
</div>
