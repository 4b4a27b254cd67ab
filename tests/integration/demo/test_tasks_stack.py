"""The task bot against a live gateway and the emulator (the demo's stack, installed in Acme):
slash commands, people without an account, removing a workspace (the token revoked in Slack),
and a disconnected workspace's commands ignored."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from rich.console import Console

from slackbridge.demo.control import EmulatorControl
from slackbridge.demo.examples import EXAMPLES
from slackbridge.demo.stack import DemoConfig, DemoStack
from slackbridge.demo.startup import ACME, ALICE, CAROL, start_and_install
from slackbridge.demo.steps import Steps, wait_until
from slackbridge.demo.tasks.app import WEBHOOK_PATH, TaskBot
from slackbridge.product.signing import sign_headers
from tests.support.demo_cli import free_port_base

ALICE_EMAIL = "alice@acme.test"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DemoStack]:
    config = DemoConfig(port_base=free_port_base(), data_dir=tmp_path / "demo")
    running = DemoStack(config, EXAMPLES["tasks"])
    running.bind_ports()
    try:
        await start_and_install(running, Steps(Console(file=io.StringIO())))
        yield running
    finally:
        await running.aclose()


def _bot(stack: DemoStack) -> TaskBot:
    bot: TaskBot = stack.product.state.tasks
    return bot


async def _state(http: httpx.AsyncClient, stack: DemoStack) -> dict[str, Any]:
    answer: dict[str, Any] = (await http.get(f"{stack.urls.product}/api/state")).json()
    return answer


async def test_slash_commands_and_strangers(stack: DemoStack) -> None:
    bot = _bot(stack)
    await wait_until(_declared(bot), "the commands declared")
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, stack.urls.emulator)
        await control.command(ACME, "C0ACME0GEN", ALICE, "/tasks", "add ‘Ship it’ due 2026-12-24")
        await wait_until(lambda: _answer(bot, "response", "Ship it"), "the /tasks answer")
        assert bot.board.tasks[1].due is not None and bot.board.tasks[1].owner == ALICE_EMAIL

        # carol has no account in the tracker: she's told, only she sees it, nothing is added.
        ws = stack.workspace or {}
        await control.invite(ACME, "C0ACME0GEN", ALICE, [str(ws["bot_user_id"])])
        await control.post(ACME, "C0ACME0GEN", CAROL, f"<@{ws['bot_user_id']}> add x")
        stranger = await wait_until(
            lambda: _answer(bot, "ephemeral", "I don't know carol@acme.test"), "carol's answer"
        )
        assert stranger["channel_id"] == "C0ACME0GEN"
        assert len(bot.board.tasks) == 1
        page = await http.get(f"{stack.urls.product}/")
        assert "Ship it" in page.text and "Alice Archer" in page.text


async def test_removing_the_workspace_revokes_the_token_in_slack(stack: DemoStack) -> None:
    async with httpx.AsyncClient(timeout=10.0) as http:
        await wait_until(lambda: _status(http, stack, "active"), "Acme active on the page")
        removed = await http.post(f"{stack.urls.product}/api/workspaces/{ACME}/remove")
        assert removed.status_code == 200, removed.text
        assert removed.json()["workspace"]["status"] == "removed"

        installs = stack.emulator_state.installations.values()
        mine = [i for i in installs if i.app_id == stack.app_id and i.team_id == ACME]
        assert [i.status for i in mine] == ["revoked"]  # auth.revoke reached Slack
        api = {"Authorization": f"Bearer {stack.api_key}"}
        listed = (await http.get(f"{stack.urls.api}/workspaces/{ACME}", headers=api)).json()
        assert listed["status"] == "removed"
        # The workspace.uninstalled that follows doesn't turn "removed" into "disconnected".
        await wait_until(_uninstalled_delivered(stack), "workspace.uninstalled delivered")
        assert (await _status(http, stack, "removed")) is not None

        again = await http.post(f"{stack.urls.product}/api/workspaces/T0NOPE0001/remove")
        assert again.status_code == 404


async def test_a_disconnected_workspace_is_not_used(stack: DemoStack) -> None:
    bot = _bot(stack)
    assert stack.webhook_secret is not None
    async with httpx.AsyncClient(timeout=10.0) as http:
        await wait_until(lambda: _status(http, stack, "active"), "Acme active on the page")
        gone = {"workspace": {"team_id": ACME, "team_name": "Acme"}, "error": "invalid_auth"}
        answer = await _deliver(http, stack, "workspace.disconnected", gone, "msg_gone")
        assert answer.json()["outcome"] == "disconnected"
        assert (await _status(http, stack, "disconnected")) is not None

        matched = {
            "workspace": {"team_id": ACME},
            "channel": {"id": "C0ACME0GEN", "kind": "public"},
            "user": {"id": ALICE, "email": ALICE_EMAIL},
            "command": "add",
            "arguments": {"title": "ignored", "due": None},
            "text": "add ignored",
            "source": "mention",
            "ts": "1796206542.118200",
        }
        ignored = await _deliver(http, stack, "command.matched", matched, "msg_late")
        assert ignored.json()["outcome"] == "disconnected"
        assert not bot.board.tasks and not bot.answers

        forged = await http.post(
            f"{stack.urls.product}{WEBHOOK_PATH}",
            content=b"{}",
            headers=sign_headers("whsec_" + "A" * 43 + "=", "msg_x", int(time.time()), b"{}"),
        )
        assert forged.status_code == 401


async def _deliver(
    http: httpx.AsyncClient, stack: DemoStack, kind: str, data: dict[str, Any], webhook_id: str
) -> httpx.Response:
    assert stack.webhook_secret is not None
    body = orjson.dumps({"type": kind, "timestamp": "2026-12-04T10:00:00Z", "data": data})
    headers = sign_headers(stack.webhook_secret, webhook_id, int(time.time()), body)
    response = await http.post(
        f"{stack.urls.product}{WEBHOOK_PATH}",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response


def _declared(bot: TaskBot) -> Any:
    async def check() -> bool | None:
        return True if bot.commands_declared.is_set() else None

    return check


async def _answer(bot: TaskBot, kind: str, contains: str) -> dict[str, Any] | None:
    for answer in bot.answers:
        if answer["kind"] == kind and contains in answer["text"]:
            return answer
    return None


async def _status(http: httpx.AsyncClient, stack: DemoStack, status: str) -> bool | None:
    for ws in (await _state(http, stack))["workspaces"]:
        if ws["team_id"] == ACME and ws["status"] == status:
            return True
    return None


def _uninstalled_delivered(stack: DemoStack) -> Any:
    async def check() -> bool | None:
        return True if "workspace.uninstalled" in _bot(stack).heard else None

    return check


async def test_when_the_token_dies_the_task_bot_hears_it(stack: DemoStack) -> None:
    bot = _bot(stack)
    ws = stack.workspace or {}
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, stack.urls.emulator)
        await control.invite(ACME, "C0ACME0GEN", ALICE, [str(ws["bot_user_id"])])
        fault = await http.post(
            f"{stack.urls.emulator}/_emulator/faults",
            json={"method": "chat.postMessage", "error": "account_inactive", "times": 1},
        )
        assert fault.status_code == 200, fault.text
        await control.post(ACME, "C0ACME0GEN", ALICE, f"<@{ws['bot_user_id']}> add “Ship it”")

        # The answer fails with account_inactive: the gateway sends workspace.disconnected.
        await wait_until(lambda: _status(http, stack, "disconnected"), "Acme disconnected")
        assert bot.board.workspaces[ACME].reason == "account_inactive"
        assert "workspace.disconnected" in bot.heard
        assert [t.title for t in bot.board.tasks.values()] == ["Ship it"]
