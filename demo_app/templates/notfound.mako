<%inherit file="layout.mako"/>
<%block name="title">Not found</%block>
<h1>Not found</h1>
<p>There is nothing at <code>${request.path}</code>. <a href="${request.route_url('home')}">Back to the items</a>.</p>
