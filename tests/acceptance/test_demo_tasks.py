"""``slackbridge demo tasks --scripted`` and ``tasks-socket`` (the same over Socket Mode), as CI
plays them: every step of the task bot's walkthrough passes; an unknown example is explained."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.demo_cli import assert_steps_passed, free_port_base, run_demo

pytestmark = pytest.mark.slow

STEPS = [
    "Start the Slack emulator (rate limits on)",
    "Start the gateway on a fresh store",
    "Provision the task bot app from the manifest",
    "Create an API key and point webhooks at the task bot",
    "Start the task bot (the example product)",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "The task bot declares its commands (PUT /api/v1/commands)",
    "alice invites the task bot into #general",
    'alice: @tasks add "Write release notes" due friday',
    "The task bot confirms in the thread",
    "alice: @tasks list (only she sees the answer)",
    "alice: @tasks done 1",
    "A near miss (@tasks dnoe 1) gets the gateway's help",
    "alice: @tasks help (built in: the commands with examples)",
    "alice DMs the bot: add “Book the venue” due 2026-12-24",
    "The task page lists both tasks",
    "Acme uninstalls the app; the task bot marks it disconnected",
]


async def test_scripted_tasks_demo_passes_every_step(tmp_path: Path) -> None:
    started = time.monotonic()
    code, out, err = await run_demo(
        tmp_path, "tasks", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, STEPS)
    assert time.monotonic() - started < 60
    assert not (tmp_path / ".slackbridge" / "demo").exists()


SOCKET_STEPS = [
    *STEPS[:3],
    "Give the gateway an app-level token (Socket Mode)",
    "The gateway's Socket Mode connection is up (/readyz)",
    *STEPS[3:6],
    "Slack drops the connection; the gateway reconnects",
    *STEPS[6:],
    "Every event reached the gateway over the websocket",
]


async def test_scripted_tasks_demo_over_socket_mode_passes_every_step(tmp_path: Path) -> None:
    code, out, err = await run_demo(
        tmp_path, "tasks-socket", "--scripted", "--port-base", str(free_port_base())
    )

    assert code == 0, out + err
    assert_steps_passed(out, SOCKET_STEPS)
    assert "Socket Mode (no request URLs)" in out


async def test_an_unknown_example_is_named_with_the_choices(tmp_path: Path) -> None:
    code, out, err = await run_demo(tmp_path, "taks", "--scripted")
    assert code == 2
    assert "there is no example called “taks”" in err
    assert "helpdesk" in err and "tasks" in err and "tasks-socket" in err
    assert "Traceback" not in out + err
