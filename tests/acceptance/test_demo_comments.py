"""``slackbridge demo comments --scripted`` as CI plays it: two Slack apps on one gateway and a
comment discussed both ways (skipped while the gateway sends no conversation.* webhooks)."""

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
    "Provision Comments app from the manifest",
    "Create an API key and point webhooks at Comments",
    "Start Comments (the example product)",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "Provision Comments (dev) too, on the same gateway",
    "Install Comments (dev) into Globex as erin",
    "Each environment knows its own app and workspace",
    "The gateway has the conversation bridge",
    "Pat comments on line 12 and shares it to #support",
    "bob replies in the thread: it appears under the comment",
    "alice replies on the page: in Slack under her Slack name",
    "Pat replies on the page: in Slack as the persona Pat Quinn",
    "Edits go both ways",
    "Deletions go both ways",
    "carol clicks View comment: known by her email",
    "Comments (dev) shares to Globex through its own app",
]


async def test_scripted_comments_demo_passes_every_step(tmp_path: Path) -> None:
    code, out, err = await run_demo(
        tmp_path, "comments", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, STEPS)
