"""``slackbridge demo calls --scripted``: the calls walkthrough passes every step, in CI too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.demo_cli import assert_steps_passed, free_port_base, run_demo

pytestmark = pytest.mark.slow

STEPS = [
    "Provision Calls app from the manifest",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "bob runs /call in #general; only he sees the link",
    "bob opens the link: Calls asks him to authorize with Slack",
    "bob authorizes once (Add to Slack with user scopes)",
    "The page lists #general's members with their emails",
    "bob presses Ring: the call rings alice and carol",
    "/call in the private #staff: no second prompt, Ring, link posted",
    "/call in his DM with alice: no second prompt, Ring, link posted",
    "/call in the group DM with alice and carol: no second prompt, Ring, link posted",
    "A used link is refused in another browser",
    "Every call's link reached Slack (message.delivered)",
]


async def test_scripted_calls_demo_passes_every_step(tmp_path: Path) -> None:
    code, out, err = await run_demo(
        tmp_path, "calls", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, STEPS, total=16)
    assert "no account" in out  # dave, whom the service has no account for
