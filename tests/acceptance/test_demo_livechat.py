"""``slackbridge demo livechat --scripted`` as CI plays it: every step of the live chat's
walkthrough passes (skipped while the gateway sends no conversation.* webhooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.domain.events import WEBHOOK_TYPES
from tests.support.demo_cli import assert_steps_passed, free_port_base, run_demo

#: The bridge sends conversation.* webhooks once both its halves are in (issue 12).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        "conversation.message.created" not in WEBHOOK_TYPES,
        reason="the gateway has no conversation bridge yet (issue 12)",
    ),
]

STEPS = [
    "Start the Slack emulator (rate limits on)",
    "Start the gateway on a fresh store",
    "Provision the live chat app from the manifest",
    "Create an API key and point webhooks at the live chat",
    "Start the live chat (the example product)",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "Add to Slack made the live chat's account on the way",
    "The gateway has the conversation bridge",
    "alice signs in to the console with Sign in with Slack",
    "alice sends chats to threads in #support (still)",
    "A visitor writes: a card in #support, the chat in its thread",
    "carol clicks Claim: the card says she has it",
    "carol answers in the thread: the visitor sees it live",
    "Files both ways: the visitor's in the thread, carol's on the page",
    "carol clicks Close: a modal asks for the resolution note",
    "carol submits the note: the chat closes on both sides",
    "alice switches to noisy: the next chat gets its own channel",
    "An answer in the chat's channel reaches the visitor",
]


async def test_scripted_livechat_demo_passes_every_step(tmp_path: Path) -> None:
    code, out, err = await run_demo(
        tmp_path, "livechat", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, STEPS)
