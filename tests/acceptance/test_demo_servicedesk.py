"""``slackbridge demo servicedesk --scripted`` as CI plays it: every step of the service desk's
walkthrough passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.demo_cli import assert_steps_passed, free_port_base, run_demo

pytestmark = pytest.mark.slow

STEPS = [
    "Start the Slack emulator (rate limits on)",
    "Start the gateway on a fresh store",
    "Provision the service desk app from the manifest",
    "Create an API key and point webhooks at the service desk",
    "Start the service desk (the example product)",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "The desk knows Acme and its bot user",
    "alice invites the bot into #support and the private #staff",
    "bob writes in #support: a session opens",
    "bob writes again in #support: the same session",
    "carol answers from the desk: in bob's thread in #support",
    "bob writes in #staff (private): answered in its thread",
    "bob DMs the bot: answered plainly in the DM",
    "The bot's own answers opened no session",
    "Idle time set to 1 s: every session closes, bob is told",
    "bob writes in the DM again: a new session opens",
]


async def test_scripted_servicedesk_demo_passes_every_step(tmp_path: Path) -> None:
    code, out, err = await run_demo(
        tmp_path, "servicedesk", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, STEPS)
