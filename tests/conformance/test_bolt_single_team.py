"""A single-workspace Bolt app (``AsyncApp(token=…)``) against the emulator: Bolt authorizes each
request with auth.test and learns the bot's scopes from Slack's ``X-OAuth-Scopes`` header."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.emulator.testing import install_app_for_tests
from tests.conformance.conftest import ACME, ALICE, GENERAL, Emulator

SCOPES = ["channels:history", "chat:write", "commands"]


async def test_bolt_reads_the_bot_scopes_from_auth_test_headers(emulator: Emulator) -> None:
    bot = install_app_for_tests(emulator.state, ACME, SCOPES, channels=["general"])
    app = AsyncApp(
        signing_secret=bot.app.signing_secret,
        client=AsyncWebClient(token=bot.bot_token, base_url=emulator.api_url),
    )
    seen: list[Any] = []

    @app.command("/scopes")
    async def on_command(ack: Any, context: AsyncBoltContext) -> None:
        await ack()
        assert context.authorize_result is not None
        seen.append(context.authorize_result.bot_scopes)

    body = urlencode(
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": ALICE,
            "command": "/scopes",
            "text": "",
            "api_app_id": bot.app.id,
        }
    )
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(bot.app.signing_secret).generate_signature(
        timestamp=timestamp, body=body
    )
    response = await app.async_dispatch(
        AsyncBoltRequest(
            body=body,
            headers={
                "content-type": ["application/x-www-form-urlencoded"],
                "x-slack-request-timestamp": [timestamp],
                "x-slack-signature": [signature],
            },
        )
    )
    assert response.status == 200, response.body
    assert seen == [SCOPES]
