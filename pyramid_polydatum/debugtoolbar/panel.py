"""The pyramid_debugtoolbar panel: what the request did with its data."""

from __future__ import annotations

from typing import Any

from pyramid_debugtoolbar.panels import DebugPanel

from ..glue.interfaces import IEngineRegistry
from ..glue.request import request_context
from .snapshot import snapshot, summary


class PolydatumPanel(DebugPanel):  # type: ignore[misc]  # the base ships no type hints
    """Context, meta, resources, middleware and engines of one request, snapshotted when it finished.

    The snapshot is taken in a finished callback added after the view ran: by then the include's tween has ended
    the request's context, so the statements run while it ended (an audit entry written by middleware, the flush of
    a commit) are in the count. A context first opened after the view (in a response callback) may still be open
    then; the panel shows its state as it was. It never creates a context.
    """

    name = "polydatum"
    title = "Data layer (pyramid_polydatum)"
    nav_title = "Data layer"
    has_content = True
    template = "pyramid_polydatum.debugtoolbar:templates/polydatum.dbtmako"

    def __init__(self, request: Any) -> None:
        self.data.update({"created": False, "snapshotted": False})

    def wrap_handler(self, handler: Any) -> Any:
        def snapshot_when_finished(request: Any) -> Any:
            try:
                return handler(request)
            finally:
                request.add_finished_callback(self._snapshot)

        return snapshot_when_finished

    def _snapshot(self, request: Any) -> None:
        engines = request.registry.queryUtility(IEngineRegistry)
        self.data.update(snapshot(request_context(request), engines))
        self.data["snapshotted"] = True
        self.nav_subtitle = summary(self.data)
