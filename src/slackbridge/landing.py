"""The gateway's front page (``/``) and its icon.

Someone who opens the gateway's address in a browser (after ``slackbridge serve`` or the demo)
should learn what is running and where to go next, not read a JSON 404. The page is pure
(rendered from the version and the components' health) and self-contained: inline style, the
icon as a ``data:`` URL, nothing fetched from other hosts.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["FAVICON_SVG", "favicon_data_url", "render_landing"]

#: A bridge over water, drawn (no font needed); served at /favicon.ico and inlined in pages.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#4a154b"/>'
    '<path d="M4 19h24M8 19v-4a8 8 0 0 1 16 0v4" fill="none" stroke="#fff" stroke-width="3"'
    ' stroke-linecap="round"/>'
    '<path d="M5 25q3.5-2.5 7 0t7 0 7 0" fill="none" stroke="#36c5f0" stroke-width="2.5"'
    ' stroke-linecap="round"/></svg>'
)

_DOCS = (
    ("docs/quickstart.md", "Quickstart: the demo, each piece on its own, your own product"),
    ("docs/installation.md", "Installing into workspaces: the Slack app, Add to Slack"),
    ("docs/api.md", "Product API reference, readable"),
    ("docs/webhooks.md", "Webhooks the product receives, and verifying them"),
    ("docs/bridge.md", "The conversation bridge: a conversation as a Slack thread or channel"),
    ("docs/configuration.md", "Every setting"),
    ("docs/operations.md", "Health, readiness, metrics, the delivery queue"),
)

_STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:#f8f8fa;
margin:0;color:#1d1c1d}
main{max-width:640px;margin:48px auto;background:#fff;border-radius:12px;padding:28px 36px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:24px;margin:0 0 4px;display:flex;align-items:center;gap:10px}
h1 img{width:28px;height:28px}
h2{font-size:16px;margin:24px 0 8px}
p,li{line-height:1.55}
ul{padding-left:20px;margin:0}
code{background:#f1f1f1;padding:1px 4px;border-radius:3px}
.muted{color:#616061;font-size:14px}
.ok{color:#007a5a;font-weight:600}
.bad{color:#b3103e;font-weight:600}
"""


def favicon_data_url(svg: str = FAVICON_SVG) -> str:
    """``svg`` as a ``data:`` URL for ``<link rel="icon">`` (no request, no file)."""
    return "data:image/svg+xml," + quote(svg, safe=" :/=',.-")


def _health(checks: dict[str, dict[str, Any]]) -> str:
    failing = {name: check for name, check in checks.items() if not check["ok"]}
    if not failing:
        summary = (
            f'<span class="ok" id="health">healthy</span> ({len(checks)} components report ok)'
            if checks
            else '<span class="ok" id="health">running</span>'
        )
        return f"<p>{summary}</p>"
    rows = "".join(
        f"<li><code>{escape(name)}</code>: {escape(str(check['detail']) or 'not ok')}</li>"
        for name, check in failing.items()
    )
    return (
        f'<p><span class="bad" id="health">degraded</span>: {len(failing)} of {len(checks)} '
        f"components report a problem</p><ul>{rows}</ul>"
    )


def render_landing(version: str, checks: dict[str, dict[str, Any]]) -> str:
    """The front page: what this is, its version and health, and where to go next."""
    docs = "".join(f"<li><code>{escape(path)}</code>: {escape(text)}</li>" for path, text in _DOCS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>slackbridge {escape(version)}</title>
<link rel="icon" href="{escape(favicon_data_url())}">
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1><img alt="" src="{escape(favicon_data_url())}">slackbridge</h1>
<p class="muted">A self-hosted Slack integration gateway · version
<span id="version">{escape(version)}</span></p>
<h2>Health</h2>
{_health(checks)}
<p class="muted"><a href="/healthz">/healthz</a> (liveness) ·
<a href="/readyz">/readyz</a> (readiness, checks the store) ·
<a href="/metrics">/metrics</a> (Prometheus)</p>
<h2>Install into a workspace</h2>
<p><a id="install" href="/slack/install">Add to Slack</a>: the install link, tied to no
account. To tie a workspace to one of your accounts, your product's backend asks for that
account's own signed link (<code>POST /api/v1/workspaces/install-url</code> with its
<code>product_ref</code>) and sends the person there; a <code>?ref=</code> typed by hand is
refused.</p>
<h2>Product API</h2>
<p><a id="openapi" href="/api/v1/openapi.json">/api/v1/openapi.json</a>: the API reference as
an OpenAPI document (Bearer API keys from <code>slackbridge apikey create</code>);
<code>docs/api.md</code> is the same, readable.</p>
<h2>Documentation</h2>
<p class="muted">The user's manual is in the <code>docs/</code> folder of slackbridge's
source:</p>
<ul id="docs">{docs}</ul>
</main>
</body>
</html>
"""
