"""Which scopes an installed workspace lacks, and how to fix it. Pure.

An app asks for its scopes (``bot_scopes`` in the configuration, the manifest) at install time;
a workspace installed before the app asked for more (the conversation bridge's
``channels:manage``, ``chat:write.customize``, ``users:read.email``, …) keeps its old grant
until someone installs the app there again. ``slackbridge workspaces list`` and
``GET /api/v1/workspaces`` show the difference and where to reinstall.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

__all__ = ["missing_scopes", "reinstall_hint", "reinstall_url"]


def missing_scopes(wanted: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The scopes the app asks for that the workspace has not granted, in the app's order."""
    have = set(granted)
    return [scope for scope in dict.fromkeys(wanted) if scope not in have]


def reinstall_url(
    public_url: str, team_id: str | None, app_name: str | None, product_ref: str | None
) -> str | None:
    """The gateway's install link for the workspace; None when the install carries a ref
    (such links must be signed: make one with ``POST /api/v1/workspaces/install-url``)."""
    if product_ref is not None:
        return None
    query: dict[str, str] = {}
    if app_name and app_name != "default":
        query["app"] = app_name
    if team_id:
        query["team"] = team_id
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{public_url.rstrip('/')}/slack/install{suffix}"


def reinstall_hint(missing: list[str], url: str | None, product_ref: str | None) -> str | None:
    """A sentence for people: what is missing and how to grant it; None when nothing is."""
    if not missing:
        return None
    what = f"the app lacks {', '.join(missing)} here; an admin of the workspace reinstalls it"
    if url is not None:
        return f"{what} from {url}"
    return (
        f"{what} from a new install link for ref {product_ref} "
        "(POST /api/v1/workspaces/install-url or `slackbridge workspaces install-link`)"
    )
