"""The demo runner's outcomes: a failing step ends the run with exit 1, names the step and its
reason, stops the servers and keeps the data (with the log) for a look."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from slackbridge.demo.examples import EXAMPLES
from slackbridge.demo.interactive import guide
from slackbridge.demo.runner import run_demo, run_stack
from slackbridge.demo.stack import DemoConfig, DemoStack
from slackbridge.demo.steps import Failure, Steps
from tests.support.demo_cli import free_port_base


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
    config = DemoConfig(port_base=free_port_base(), data_dir=data)
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
        DemoConfig(port_base=free_port_base(), data_dir=data),
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
        port_base=free_port_base(),
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


def test_the_examples_are_listed_in_the_same_order_whatever_is_imported_first() -> None:
    script = (
        "import slackbridge.demo.tasks.example, slackbridge.demo.walkthrough\n"
        "from slackbridge.demo.examples import EXAMPLES\n"
        "print(','.join(EXAMPLES))"
    )
    seen = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert seen.stdout.strip() == ",".join(EXAMPLES)
    assert list(EXAMPLES)[:3] == ["helpdesk", "tasks", "tasks-socket"]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_says_where_to_click(name: str, tmp_path: Path) -> None:
    stack = DemoStack(DemoConfig(port_base=9100, data_dir=tmp_path), EXAMPLES[name])
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(guide(stack, "demo.log"))
    text = out.getvalue()
    assert "http://127.0.0.1:9102/install" in text  # Add to Slack, the product's
    assert "http://127.0.0.1:9101/" in text  # the emulator
    assert f"slackbridge demo {name} --scripted" in text
    assert "1. " in text and "Ctrl-C" in text
