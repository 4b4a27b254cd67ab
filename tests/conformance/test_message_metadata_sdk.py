"""Message metadata through slack_sdk, unchanged but for ``base_url``: chat_postMessage with a
``Metadata`` object or a dict, read back with conversations_history/replies and
``include_all_metadata``."""

from __future__ import annotations

import pytest
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.emulator.testing import install_app_for_tests
from tests.conformance.conftest import ACME, GENERAL, Emulator


@pytest.mark.parametrize("as_object", [True, False])
async def test_metadata_round_trip(emulator: Emulator, as_object: bool) -> None:
    bot = install_app_for_tests(emulator.state, ACME, channels=["general"])
    client = AsyncWebClient(token=bot.bot_token, base_url=emulator.api_url, timeout=10)
    payload = {"conversation": "c-9", "author": "agent-7"}
    metadata = (
        Metadata(event_type="bridge_post", event_payload=payload)
        if as_object
        else {"event_type": "bridge_post", "event_payload": payload}
    )
    posted = await client.chat_postMessage(channel=GENERAL, text="hello", metadata=metadata)
    assert posted["message"]["metadata"] == {"event_type": "bridge_post", "event_payload": payload}
    reply = await client.chat_postMessage(
        channel=GENERAL, text="reply", thread_ts=posted["ts"], metadata=metadata
    )
    assert reply["ok"] is True

    plain = await client.conversations_history(channel=GENERAL, limit=5)
    mine = next(m for m in plain["messages"] if m["ts"] == posted["ts"])
    assert mine["metadata"] == {"event_type": "bridge_post"}
    full = await client.conversations_history(channel=GENERAL, limit=5, include_all_metadata=True)
    mine = next(m for m in full["messages"] if m["ts"] == posted["ts"])
    assert mine["metadata"]["event_payload"] == payload
    thread = await client.conversations_replies(
        channel=GENERAL, ts=posted["ts"], include_all_metadata=True
    )
    assert [m["metadata"]["event_payload"] for m in thread["messages"]] == [payload, payload]
