"""Every Slack Web API call goes through the gateway's rate limiter.

The calls go through :class:`~slackbridge.slack.outbound.web_api.Outbound` (``outbound.call``,
or ``outbound.client`` for the sender, which takes its place in the limiter itself). A module
that makes a client of its own (``gateway.slack_client(...)`` or ``AsyncWebClient(...)``) must
be one of the few below, each of which takes its place in the same limiter first through a port;
a new one makes this test fail, so that it is either routed through the Outbound or added here
with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[3] / "src" / "slackbridge"

#: Module → why its own client is allowed (what limits its calls).
_ALLOWED = {
    "runtime.py": "defines Gateway.slack_client",
    "slack/outbound/web_api.py": "the Outbound itself",
    "slack/outbound/sender.py": "a response_url post (not a Web API method; no token)",
    "slack/workspaces/tokens.py": "oauth.v2.access refreshes, call_as_bot: call_budget first",
    "slack/workspaces/oauth.py": "oauth.v2.access, auth.test on install: call_budget first",
    "slack/workspaces/lifecycle.py": "auth.revoke on removal: call_budget first",
    "slack/inbound/socket_mode.py": "apps.connections.open: the reserve_shared_call port first",
    "slack/workspaces/provision.py": "the app configuration API (a configuration token)",
}


def _own_clients(path: Path) -> list[int]:
    """Lines of ``path`` that make a Web API client of their own."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("slack_client", "AsyncWebClient"):
            lines.append(node.lineno)
    return lines


def test_web_api_clients_are_made_only_where_the_limiter_is_taken_first() -> None:
    found: dict[str, list[int]] = {}
    for path in sorted(_PACKAGE.rglob("*.py")):
        relative = path.relative_to(_PACKAGE).as_posix()
        if relative.startswith(("emulator/", "demo/")):
            continue  # the fake Slack, and the example apps (not the gateway)
        lines = _own_clients(path)
        if lines:
            found[relative] = lines
    unexpected = {module: lines for module, lines in found.items() if module not in _ALLOWED}
    assert unexpected == {}, (
        "these modules call Slack with a client of their own, outside the rate limiter: "
        f"{unexpected}; use outbound_of(gateway).call(...) or take the limiter first"
    )


def test_the_allowed_list_has_no_stale_entry() -> None:
    for module in _ALLOWED:
        assert _own_clients(_PACKAGE / module), f"{module} no longer makes a client: drop it"
