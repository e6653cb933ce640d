<%inherit file="layout.mako"/>
<%block name="title">About</%block>
<h1>About this demo</h1>
<p>An inventory built on <strong>pyramid_polydatum</strong>. Every page reads and writes through
<code>request.dal</code>: <code>request.dal.items</code> and its nested <code>request.dal.items.stock</code> service,
a per-request <code>memo</code> resource, and an <code>audit</code> middleware that records each change on the
independent logger engine.</p>
<p>This page never touches <code>request.dal</code>: no data context is created for it and no database connection
is opened. Open the debug toolbar's “Data layer” panel to see the difference.</p>
