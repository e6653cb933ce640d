<%inherit file="layout.mako"/>
<%namespace file="layout.mako" import="csrf_field"/>
<%block name="title">${'Edit ' + item.name if item else 'New item'}</%block>
<h1>${'Edit ' + item.name if item else 'New item'}</h1>
<form method="post" class="item-form" novalidate>
  ${csrf_field()}
  <%def name="field(name, label, value, kind='text')">
    <div class="field ${'has-error' if name in form.errors else ''}">
      <label for="${name}">${label}</label>
      % if kind == 'textarea':
        <textarea id="${name}" name="${name}" rows="4">${value}</textarea>
      % else:
        <input id="${name}" name="${name}" type="${kind}" value="${value}">
      % endif
      % if name in form.errors:
        <span class="error" role="alert">${form.errors[name]}</span>
      % endif
    </div>
  </%def>
  ${field('sku', 'SKU', form.sku)}
  ${field('name', 'Name', form.name)}
  ${field('description', 'Description', form.description, 'textarea')}
  % if not item:
    ${field('quantity', 'Initial stock', form.quantity, 'number')}
  % endif
  <button type="submit">${'Save' if item else 'Create'}</button>
  <a href="${request.route_url('item', id=item.id) if item else request.route_url('home')}">Cancel</a>
</form>
