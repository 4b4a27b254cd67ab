"""The Calls example's HTML pages (Jinja2, autoescaped; no script or style from other hosts)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["render"]

_templates = Environment(
    loader=PackageLoader("slackbridge.demo.calls", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(template: str, status: int, **context: Any) -> HTMLResponse:
    """``template`` with ``context``; never cached (the pages show live state)."""
    body = _templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
