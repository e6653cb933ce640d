<%inherit file="layout.mako"/>
<%block name="title">${heading}</%block>
<h1>${heading} <small>(${status})</small></h1>
<p class="error" role="alert">${message}</p>
<p><a href="${request.route_url('home')}">Back to the items</a>.</p>
