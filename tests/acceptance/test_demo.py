"""``slackbridge demo``, as a newcomer runs it: the scripted walkthrough passes, a port in use is
explained, and the interactive demo says where to click and stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.demo_cli import (
    DEMO_CLI,
    assert_steps_passed,
    demo_env,
    free_port_base,
    run_demo,
)

pytestmark = pytest.mark.slow

STEPS = [
    "Start the Slack emulator (rate limits on)",
    "Start the gateway on a fresh store",
    "Provision the Helpdesk app from the manifest",
    "Create an API key and point webhooks at the Helpdesk",
    "Start the Helpdesk (the example product)",
    "Install into Acme as alice (Add to Slack → consent → callback)",
    "alice invites the Helpdesk bot into #support",
    "The Helpdesk watches #support (a bridge watched channel)",
    "bob asks a question in #support",
    "The Helpdesk adopts it as a ticket (conversation.opened)",
    "The Helpdesk says so in the thread",
    "An agent answers from the Helpdesk",
    "The answer appears in the thread as 'Helpdesk agent'",
    "The agent corrects the answer; Slack shows the edit",
    "bob replies with the printer's log (a file into the Helpdesk)",
    "bob edits his reply; the ticket shows the edit",
    "bob posts by mistake and deletes it; the ticket shows it",
    "The agent sends the printer's guide (a file into Slack)",
    "The agent takes back a wrong answer; it leaves Slack",
    "No echoes: the Helpdesk's own posts never came back",
    "The gateway stops (an outage)",
    "bob replies in the thread while the gateway is down",
    "The gateway starts again; catch-up brings bob's reply",
    "alice marks the question ✅; the ticket is resolved",
    "An agent opens an urgent ticket: a channel of its own",
    "carol answers in the ticket's channel; the ticket gets it",
    "carol runs /helpdesk; the Helpdesk answers her",
    "The agent resolves the urgent ticket; its channel is archived",
]


async def test_scripted_demo_passes_every_step(tmp_path: Path) -> None:
    started = time.monotonic()
    code, out, err = await run_demo(tmp_path, "--scripted", "--port-base", str(free_port_base()))

    assert code == 0, out + err
    assert_steps_passed(out, STEPS)
    assert time.monotonic() - started < 60
    assert not (tmp_path / ".slackbridge" / "demo").exists()  # removed without --keep-data


async def test_the_demo_is_not_swayed_by_the_environment_or_a_settings_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "slackbridge.toml").write_text("public_url = [\n")  # broken
    wrong = {
        "SLACKBRIDGE_DATABASE_URL": "mysql://nowhere/db",
        "SLACKBRIDGE_OUTBOX_CONCURRENCY": "x",
    }
    code, out, err = await run_demo(
        tmp_path, "--scripted", "--port-base", str(free_port_base()), env=wrong
    )
    assert code == 0, out + err
    assert f"All {len(STEPS)} steps passed" in out


async def test_keep_data_leaves_the_store_and_log(tmp_path: Path) -> None:
    base = str(free_port_base())
    code, out, err = await run_demo(tmp_path, "--scripted", "--port-base", base, "--keep-data")

    assert code == 0, out + err
    data = tmp_path / ".slackbridge" / "demo"
    assert (data / "slackbridge.db").is_file()
    assert "installed helpdesk into T0ACME0001" in (data / "demo.log").read_text()
    assert "Data kept in .slackbridge/demo/" in out


async def test_a_port_in_use_is_explained_and_touches_nothing(tmp_path: Path) -> None:
    base = free_port_base()
    earlier = tmp_path / ".slackbridge" / "demo"
    earlier.mkdir(parents=True)
    (earlier / "demo.log").write_text("the previous run")
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", base + 1))
        busy.listen()
        code, out, err = await run_demo(
            tmp_path, "--scripted", "--port-base", str(base), retry_taken_port=False
        )

    assert code == 2
    assert f"port {base + 1} (the Slack emulator) is already in use" in err
    assert "--port-base" in err
    assert "Traceback" not in out + err
    assert (earlier / "demo.log").read_text() == "the previous run"


async def test_a_bad_port_base_is_refused(tmp_path: Path) -> None:
    code, _out, err = await run_demo(tmp_path, "--port-base", "80")
    assert code == 2
    assert "--port-base must be between 1024 and 65533" in err


async def test_the_demo_says_where_to_click_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    base = free_port_base()
    proc = await asyncio.create_subprocess_exec(
        *DEMO_CLI,
        "--port-base",
        str(base),
        cwd=tmp_path,
        env=demo_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("Ctrl-C" in line for line in seen):
            line = await asyncio.wait_for(proc.stdout.readline(), deadline - time.monotonic())
            assert line, "the demo exited early:\n" + "".join(seen)
            seen.append(line.decode())
        text = "".join(seen)
        assert f"http://127.0.0.1:{base + 1}/" in text  # the emulator's page
        assert f"http://127.0.0.1:{base + 2}/" in text  # the Helpdesk
        assert f"http://127.0.0.1:{base + 2}/install" in text  # Add to Slack
        async with httpx.AsyncClient(timeout=5.0) as client:
            page = await client.get(f"http://127.0.0.1:{base + 2}/")
            # The Helpdesk hands out a signed link for its account, which the gateway takes.
            link = await client.get(f"http://127.0.0.1:{base + 2}/install")
            start = await client.get(link.headers["location"])
            unsigned = await client.get(f"http://127.0.0.1:{base}/slack/install?ref=demo")
        assert page.status_code == 200 and "Helpdesk" in page.text
        assert link.status_code == 302
        assert link.headers["location"].startswith(
            f"http://127.0.0.1:{base}/slack/install?ref=demo&"
        )
        assert start.status_code == 302
        assert start.headers["location"].startswith(f"http://127.0.0.1:{base + 1}/oauth/v2/")
        assert unsigned.status_code == 403

        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, text + rest.decode()
    assert "Stopped." in rest.decode()
    assert not (tmp_path / ".slackbridge" / "demo").exists()
