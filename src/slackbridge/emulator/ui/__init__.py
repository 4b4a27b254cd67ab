"""The emulator's web page at ``/``: watch channels and threads live and act as a user.

The page is static HTML, CSS and JavaScript (no external resources, so it works offline; icons
are drawn, not emoji). It reads and acts through the control API alone: ``GET /_emulator/state``
for workspaces, users, channels and installations,
``GET /_emulator/conversations/{team_id}/{channel_id}/messages?user_id=…`` (polled about once a
second) for the open channel and what only the chosen user sees there, ``GET
/_emulator/deliveries`` for the side panel, and ``POST /_emulator/messages``,
``/messages/edit``, ``/messages/delete``, ``/reactions``, ``/commands``, ``/actions``,
``/views/submit`` and ``/conversations/invite`` (the page's ``/invite``) to act as the chosen
user. Anything a person
does on the page a script can do through the same endpoints.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["FAVICON_SVG", "STATIC_DIR", "routes"]

STATIC_DIR = Path(__file__).parent / "static"
# The page and its assets change with the package, not per request; revalidate each load so an
# upgraded emulator never serves a stale script.
_NO_CACHE = {"Cache-Control": "no-cache"}
#: The page's icon (a channel's #), drawn; index.html inlines it as a data: URL, and
#: /favicon.ico serves it to whatever asks there.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#3f0e40"/>'
    '<path d="M12 6l-2 20M22 6l-2 20M7 12.5h19M6 19.5h19" stroke="#fff" stroke-width="3"'
    ' stroke-linecap="round"/></svg>'
)


async def _index(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_NO_CACHE
    )


async def _favicon(request: Request) -> Response:
    return Response(FAVICON_SVG, media_type="image/svg+xml", headers=_NO_CACHE)


def routes() -> list[BaseRoute]:
    """``/`` (the page), ``/favicon.ico`` and ``/ui/static/…`` (its scripts and style sheet)."""
    return [
        Route("/", _index, methods=["GET"]),
        Route("/favicon.ico", _favicon, methods=["GET"]),
        Mount("/ui/static", app=StaticFiles(directory=STATIC_DIR), name="ui-static"),
    ]
