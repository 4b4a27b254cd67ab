"""The Helpdesk against the real emulator and gateway on loopback: questions in #support become
bridge conversations the Helpdesk adopts as tickets; answers go through the conversations API
into the thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from slackbridge.demo.control import EmulatorControl, find_message
from slackbridge.demo.helpdesk import (
    AGENT_PERSONA,
    BOT_PERSONA,
    WEBHOOK_PATH,
    create_helpdesk_app,
)
from slackbridge.demo.walkthrough import HELPDESK_APP
from slackbridge.product.signing import generate_secret, sign_headers
from slackbridge.store.repositories.api_keys import ApiKeysRepository
from tests.support.servers import bind_loopback, serve_asgi
from tests.support.stack import (
    EmulatorServer,
    browser,
    install_via_browser,
    run_emulator,
    run_gateway,
)

ACME, ALICE, BOB, CAROL = "T0ACME0001", "U0ACME0001", "U0ACME0002", "U0ACME0003"
SUPPORT = "C0ACME0SUP"
_T = TypeVar("_T")


@dataclass
class Desk:
    url: str
    secret: str
    emulator: EmulatorServer
    control: EmulatorControl
    http: httpx.AsyncClient

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = (await self.http.get(f"{self.url}/api/state")).json()
        return result

    async def ticket(self, root_ts: str) -> dict[str, Any] | None:
        return next((t for t in (await self.state())["tickets"] if t["root_ts"] == root_ts), None)

    async def thread(self, root_ts: str) -> dict[str, Any]:
        return find_message(await self.control.messages(ACME, SUPPORT), root_ts) or {}


async def until(check: Callable[[], Awaitable[_T | None]], within: float = 15.0) -> _T:
    deadline = time.monotonic() + within
    while (value := await check()) is None:
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return value


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """Emulator + gateway (webhooks → the Helpdesk) + the Helpdesk, installed into Acme, the
    bot in #support."""
    secret = generate_secret()
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        run_emulator() as emulator,
        run_gateway(
            emulator,
            tmp_path,
            apps=[HELPDESK_APP],
            webhook_url=url + WEBHOOK_PATH,
            webhook_secret=secret,
        ) as gateway,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        await gateway.provision(
            HELPDESK_APP.name,
            display_name=HELPDESK_APP.display_name,
            slash_commands=HELPDESK_APP.slash_commands,
        )
        async with browser() as b:
            page = await install_via_browser(b, gateway, ACME, ALICE)
        assert page.status_code == 200, page.text
        key = await ApiKeysRepository(gateway.gateway.db, gateway.gateway.keyring).create("t")
        control = EmulatorControl(http, emulator.url)
        inst = next(i for i in (await control.state())["installations"] if i["team_id"] == ACME)
        await control.invite(ACME, SUPPORT, ALICE, [inst["bot_user_id"]])
        app = create_helpdesk_app(gateway.url, key.secret, secret)
        async with serve_asgi(app, sock=sock):
            found = Desk(url, secret, emulator, control, http)

            async def watching() -> bool | None:
                return True if (await found.state())["watched"] else None

            await until(watching)
            yield found


async def test_a_question_becomes_a_ticket_and_answers_land_in_the_thread(desk: Desk) -> None:
    assert (await desk.state())["watched"] == [{"team_id": ACME, "channel_id": SUPPORT}]
    root = await desk.control.post(ACME, SUPPORT, BOB, "The printer is jammed")

    async def adopted() -> dict[str, Any] | None:
        found = await desk.ticket(root)
        return found if found and found["adopted"] and found["acknowledged"] else None

    ticket = await until(adopted)
    assert (ticket["number"], ticket["key"], ticket["requester_name"], ticket["status"]) == (
        1,
        "ticket-1",
        "Bob Baker",
        "open",
    )

    as_agent = await desk.http.post(
        f"{desk.url}/api/tickets/1/replies", json={"text": "On it!", "as": "agent"}
    )
    as_bot = await desk.http.post(
        f"{desk.url}/api/tickets/1/replies", json={"text": "Ticket noted.", "as": "bot"}
    )
    assert (as_agent.status_code, as_bot.status_code) == (202, 202)

    async def replies() -> list[dict[str, Any]] | None:
        found = (await desk.thread(root)).get("replies") or []
        return found if len(found) == 3 else None

    ack, first, second = await until(replies)
    assert (ack["username"], first["username"], second["username"]) == (
        BOT_PERSONA,
        AGENT_PERSONA,
        BOT_PERSONA,
    )
    assert (first["text"], second["text"]) == ("On it!", "Ticket noted.")
    assert first["bot_id"] and first["bot_id"] == second["bot_id"]
    # They went through slackbridge: the bot token the Helpdesk never saw posted them.
    posts = desk.emulator.calls_to("chat.postMessage", thread_ts=root)
    assert [c.args["text"] for c in posts][1:] == ["On it!", "Ticket noted."]
    assert all(c.authorization and c.authorization.startswith("Bearer xoxb-") for c in posts)

    async def both_sent() -> dict[str, Any] | None:
        current = await desk.ticket(root) or {}
        agents = [m for m in current.get("messages", []) if m["from_agent"]]
        return current if [m["delivery"] for m in agents] == ["sent"] * 3 else None

    current = await until(both_sent)
    assert [m["ts"] for m in current["messages"][2:]] == [first["ts"], second["ts"]]
    assert current["status"] == "answered"
    # The bridge never echoed the Helpdesk's own posts back as people's messages.
    assert [m["from_agent"] for m in current["messages"]] == [False, True, True, True]


async def test_thread_replies_edits_deletions_reactions_and_the_command(desk: Desk) -> None:
    root = await desk.control.post(ACME, SUPPORT, BOB, "VPN drops")
    await until(lambda: desk.ticket(root))
    reply = await desk.control.post(ACME, SUPPORT, BOB, "every 10 min", thread_ts=root)
    await desk.control.edit(ACME, SUPPORT, BOB, reply, "every 5 min")
    extra = await desk.control.post(ACME, SUPPORT, BOB, "oops", thread_ts=root)
    await desk.control.delete(ACME, SUPPORT, BOB, extra)

    async def settled() -> dict[str, Any] | None:
        current = await desk.ticket(root) or {}
        by_ts = {m["ts"]: m for m in current.get("messages", [])}
        ok = (
            by_ts.get(reply, {}).get("text") == "every 5 min"
            and by_ts.get(extra, {}).get("deleted") is True
        )
        return current if ok else None

    current = await until(settled)
    people = [m for m in current["messages"] if not m["from_agent"]]
    assert [m["edited"] for m in people] == [False, True, False]

    await desk.control.react(ACME, SUPPORT, ALICE, root, "white_check_mark")

    async def resolved() -> bool | None:
        closed = any("is resolved" in r["text"] for r in (await desk.thread(root))["replies"])
        status = (await desk.ticket(root) or {}).get("status")
        return True if status == "resolved" and closed else None

    await until(resolved)

    await desk.control.command(ACME, SUPPORT, CAROL, "/helpdesk")

    async def answered() -> dict[str, Any] | None:
        commands = (await desk.state())["commands"]
        return commands[0] if commands and commands[0]["delivery"] == "sent" else None

    command = await until(answered)
    assert command["user_name"] == "Carol Chen"
    assert "no open tickets" in command["answer"]


async def test_reply_errors_are_clear(desk: Desk) -> None:
    post = desk.http.post
    missing = await post(f"{desk.url}/api/tickets/9/replies", json={"text": "x"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ticket_not_found")

    # A ticket in a workspace slackbridge doesn't serve: the API refuses, the page says why.
    body = orjson.dumps(
        {
            "type": "conversation.opened",
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {
                "workspace": {"team_id": "T0NOPE0001"},
                "conversation": {
                    "key": None,
                    "mode": "still",
                    "channel": "C0NOPE0001",
                    "thread_ts": "1700000000.000100",
                },
                "message": {
                    "ts": "1700000000.000100",
                    "text": "hello?",
                    "author": {"slack_user": "U0NOPE0001"},
                },
            },
        }
    )
    signed = sign_headers(desk.secret, "msg_x", int(time.time()), body)
    accepted = await post(f"{desk.url}{WEBHOOK_PATH}", content=body, headers=signed)
    assert accepted.json()["outcome"] == "opened"

    for payload, code in [
        ({"text": "  "}, "invalid_text"),
        ({"text": "x" * 4001}, "invalid_text"),
        ({"text": "hi", "as": "ceo"}, "invalid_as"),
    ]:
        answer = await post(f"{desk.url}/api/tickets/1/replies", json=payload)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, code)
    not_json = await post(f"{desk.url}/api/tickets/1/replies", content=b"{")
    assert not_json.status_code == 400

    refused = await post(f"{desk.url}/api/tickets/1/replies", json={"text": "hi"})
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "conversation_not_found"  # never adopted
