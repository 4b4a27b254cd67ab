"""The demo runner's outcomes: a failing step ends the run with exit 1, names the step and its
reason, stops the servers and keeps the data (with the log) for a look."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import httpx
from rich.console import Console

from slackbridge.demo.examples import EXAMPLES
from slackbridge.demo.runner import run_demo, run_stack
from slackbridge.demo.stack import DemoConfig, DemoStack
from slackbridge.demo.steps import Failure, Steps


def _free_port_base() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base > 65000:
            continue
        try:
            for port in (base + 1, base + 2):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no three consecutive free ports")


async def test_a_failing_step_exits_1_and_keeps_the_data(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    seen: dict[str, int] = {}

    async def walkthrough(stack: DemoStack, steps: Steps) -> None:
        async with steps.step("Start the Slack emulator"):
            await stack.start_emulator()
        async with steps.step("Ask the emulator for a channel that does not exist"):
            async with httpx.AsyncClient() as http:
                answer = await http.get(
                    f"{stack.urls.emulator}/_emulator/conversations/T0ACME0001/C0NOPE/messages"
                )
            seen["status"] = answer.status_code
            raise Failure(f"no such channel (HTTP {answer.status_code})")
        async with steps.step("Never reached"):
            pass

    data = tmp_path / "demo"
    config = DemoConfig(port_base=_free_port_base(), data_dir=data)
    code = await run_stack(
        config,
        scripted=True,
        keep_data=False,
        console=Console(file=out, width=200, color_system=None),
        err_console=Console(file=err, width=200, color_system=None),
        walkthrough=walkthrough,
    )

    assert code == 1
    assert seen == {"status": 404}
    lines = out.getvalue().splitlines()
    assert any(line.startswith("✓ Start the Slack emulator (") for line in lines)
    assert any(line.startswith("✗ Ask the emulator for a channel") for line in lines)
    assert "Never reached" not in out.getvalue()
    assert "Demo failed at step “Ask the emulator for a channel that does not exist”" in (
        err.getvalue()
    )
    assert "no such channel (HTTP 404)" in err.getvalue()
    assert (data / "demo.log").is_file()
    # The servers are stopped: the emulator's port is free again.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", config.emulator_port))


async def test_a_walkthrough_that_works_exits_0_and_cleans_up(tmp_path: Path) -> None:
    out = io.StringIO()

    async def walkthrough(stack: DemoStack, steps: Steps) -> None:
        async with steps.step("Start the Slack emulator"):
            await stack.start_emulator()

    data = tmp_path / "demo"
    code = await run_stack(
        DemoConfig(port_base=_free_port_base(), data_dir=data),
        scripted=True,
        keep_data=False,
        console=Console(file=out, width=200, color_system=None),
        err_console=Console(file=io.StringIO()),
        walkthrough=walkthrough,
    )

    assert code == 0
    assert "All 1 step passed" in out.getvalue()
    assert not data.exists()


def test_an_unknown_example_lists_the_names_and_exits_2(tmp_path: Path) -> None:
    err = io.StringIO()
    code = run_demo(
        "helpdesks",
        scripted=True,
        port_base=_free_port_base(),
        keep_data=False,
        console=Console(file=io.StringIO()),
        err_console=Console(file=err, width=200, color_system=None),
        data_dir=tmp_path / "demo",
    )

    assert code == 2
    assert "there is no example called “helpdesks”" in err.getvalue()
    for name in EXAMPLES:
        assert name in err.getvalue()
    assert not (tmp_path / "demo").exists()


def test_the_helpdesk_is_the_first_example() -> None:
    assert next(iter(EXAMPLES)) == "helpdesk"
    helpdesk = EXAMPLES["helpdesk"]
    assert helpdesk.app.slash_commands == ["/helpdesk"]
    assert helpdesk.webhook_path == "/webhooks/slackbridge"
