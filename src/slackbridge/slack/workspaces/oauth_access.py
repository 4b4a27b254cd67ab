"""``oauth.v2.access`` through slack_sdk's AsyncWebClient: code exchange and token refresh.

The client credentials go in an HTTP Basic ``Authorization`` header (Slack's preferred way),
built here rather than through aiohttp's deprecated ``BasicAuth`` helper.
"""

from __future__ import annotations

import base64

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from slackbridge.store.repositories.apps import SlackApp

__all__ = ["exchange_code", "refresh_token"]


def _basic(app: SlackApp) -> dict[str, str]:
    pair = f"{app.client_id or ''}:{app.client_secret or ''}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


async def exchange_code(
    client: AsyncWebClient, app: SlackApp, code: str, redirect_uri: str
) -> AsyncSlackResponse:
    """Trade an authorization ``code`` for the installation's tokens."""
    return await client.api_call(
        "oauth.v2.access",
        data={"code": code, "redirect_uri": redirect_uri, "grant_type": "authorization_code"},
        headers=_basic(app),
    )


async def refresh_token(
    client: AsyncWebClient, app: SlackApp, refresh_token: str
) -> AsyncSlackResponse:
    """Trade a (single-use) refresh token for a new access token and refresh token."""
    return await client.api_call(
        "oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=_basic(app),
    )
