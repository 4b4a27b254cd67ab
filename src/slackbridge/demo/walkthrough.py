"""The Helpdesk as the demo's first example: its app, its guide and its scripted walkthrough.

The walkthrough (after the common start-up and install, :mod:`slackbridge.demo.startup`) does
what people would do by hand, over HTTP: people in Slack post, edit, delete, share files and
react through the emulator's control API; agents answer, edit, delete, send files, open an urgent
ticket and resolve tickets from the Helpdesk's page; the gateway is stopped and started again
in the middle. Each effect is checked where a person would see it (the Helpdesk's page, the
Slack thread or channel). Every ticket is a conversation of slackbridge's bridge: a thread in
#support (still mode) and a channel of its own (noisy mode).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.helpdesk import AGENT_PERSONA, BOT_PERSONA, WEBHOOK_PATH, create_helpdesk_app
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.stack import DEMO_REF, DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, ALICE, BOB, CAROL
from slackbridge.demo.steps import Failure, Steps, wait_until
from slackbridge.settings import SlackAppConfig

__all__ = ["HELPDESK", "HELPDESK_APP", "run_walkthrough"]

#: The Slack app the Helpdesk demo provisions: the Helpdesk's bot, with one slash command.
HELPDESK_APP = SlackAppConfig(
    name="helpdesk", display_name="Helpdesk", slash_commands=["/helpdesk"]
)
#: The gateway's catch-up looks at open conversations every second in the demo (Slack's history
#: methods allow the emulator's Acme far more than the 1 a minute of a new app).
GATEWAY_SETTINGS: dict[str, Any] = {
    "bridge_catchup_interval": 1.0,
    "bridge_history_per_minute": 120.0,
}
_QUESTION = "Hi! The printer on floor 3 is jammed again. Can someone help?"
_ANSWER = "On it! Open tray 2 and pull the stuck sheet out."
_ANSWER_EDITED = "On it! Open tray 2, pull the stuck sheet gently, and press the green button."
_THANKS = "That did it, thanks! Here is the printer's log."
_THANKS_EDITED = "That did it, thanks! All 40 pages printed. Here is the printer's log."
_OOPS = "Oops, wrong thread"
_GUIDE_NOTE = "Here is the printer's guide, for next time."
_WRONG = "Your laptop is ready for pick-up."
_WHILE_DOWN = "One more thing: the toner light is blinking."
_URGENT = "The whole 2nd floor has no network since 9:00."
_CAROL_REPLY = "Looking at the switch in the 2nd floor cupboard now."
_LOG = "09:12 jam tray 2\n09:14 cleared\n09:15 printed 40 pages\n"
_GUIDE = "Printer guide\n1. Open tray 2\n2. Pull gently\n3. Press the green button\n"
_WAIT = 15.0  # seconds any one effect may take (everything is local; it usually takes < 1 s)
_CATCH_UP_WAIT = 30.0  # the catch-up leaves messages younger than 5 s to the live path first


class _Helpdesk(ProductState):
    """The Helpdesk's own JSON API, which its web page uses."""

    async def ticket(self, number: int) -> dict[str, Any] | None:
        return await self.find("tickets", "number", number)

    async def by_root(self, root_ts: str) -> dict[str, Any] | None:
        return await self.find("tickets", "root_ts", root_ts)

    async def _send(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await self._http.request(method, f"{self._base}{path}", json=body)
        if response.status_code not in (200, 201, 202):
            raise Failure(
                f"the Helpdesk refused {method} {path}: {response.status_code} {response.text}"
            )
        result: dict[str, Any] = response.json()
        return result

    async def reply(
        self, number: int, text: str, files: dict[str, str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "as": "agent"}
        if files:
            body["files"] = [
                {"filename": name, "content_base64": base64.b64encode(content.encode()).decode()}
                for name, content in files.items()
            ]
        answer = await self._send("POST", f"/api/tickets/{number}/replies", body)
        return dict(answer["message"])

    async def edit(self, number: int, message_id: str, text: str) -> None:
        await self._send("PATCH", f"/api/tickets/{number}/replies/{message_id}", {"text": text})

    async def delete(self, number: int, message_id: str) -> None:
        await self._send("DELETE", f"/api/tickets/{number}/replies/{message_id}")

    async def open_ticket(self, team_id: str, text: str, invite: list[str]) -> dict[str, Any]:
        body = {"team_id": team_id, "text": text, "requester": "Dave (phone)", "invite": invite}
        return await self._send("POST", "/api/tickets", body)

    async def resolve(self, number: int) -> None:
        await self._send("POST", f"/api/tickets/{number}/resolve", {})

    async def file(self, number: int, file_id: str) -> bytes:
        response = await self._http.get(f"{self._base}/api/tickets/{number}/files/{file_id}")
        if response.status_code != 200:
            raise Failure(f"the Helpdesk could not fetch {file_id}: {response.status_code}")
        return response.content


def _message(ticket: dict[str, Any] | None, ts: str) -> dict[str, Any] | None:
    for message in (ticket or {}).get("messages", []):
        if message.get("ts") == ts:
            return dict(message)
    return None


async def run_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """What people would do with the Helpdesk once it is installed in Acme; raises
    StepFailed at the first failure."""
    if stack.workspace is None:
        raise RuntimeError("install the app first")
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, stack.urls.emulator)
        helpdesk = _Helpdesk(http, stack.urls.product)
        bot_user = str(stack.workspace["bot_user_id"])

        async def thread(channel: str, root: str) -> list[dict[str, Any]]:
            found = find_message(await control.messages(ACME, channel), root) or {}
            return list(found.get("replies") or [])

        async with steps.step("alice invites the Helpdesk bot into #support") as step:
            support = find_channel(await control.state(), ACME, "support")
            if support is None:
                raise Failure("Acme has no #support channel")
            channel = str(support["id"])
            await control.invite(ACME, channel, ALICE, [bot_user])
            step.note(f"#support is {channel}")

        async with steps.step("The Helpdesk watches #support (a bridge watched channel)") as step:

            async def watching() -> bool | None:
                watched = (await helpdesk.state()).get("watched") or []
                return True if {"team_id": ACME, "channel_id": channel} in watched else None

            await wait_until(watching, "#support watched", within=_WAIT)
            step.note("PUT /api/v1/watched-channels: every question opens a conversation")

        async with steps.step("bob asks a question in #support") as step:
            root = await control.post(ACME, channel, BOB, _QUESTION)
            step.note(f"ts {root}")

        async with steps.step("The Helpdesk adopts it as a ticket (conversation.opened)") as step:

            async def adopted() -> dict[str, Any] | None:
                found = await helpdesk.by_root(root)
                return found if found and found["adopted"] else None

            ticket = await wait_until(adopted, "a ticket for bob's question", within=_WAIT)
            number = int(ticket["number"])
            step.note(f"ticket #{number} = conversation {ticket['key']!r}: {ticket['subject']}")

        async with steps.step("The Helpdesk says so in the thread") as step:

            async def acknowledged() -> dict[str, Any] | None:
                for reply in await thread(channel, root):
                    if reply.get("username") == BOT_PERSONA and reply.get("bot_id"):
                        return dict(reply)
                return None

            ack = await wait_until(acknowledged, "the Helpdesk's note in the thread", within=_WAIT)
            step.note(f"{ack['text']!r} as {BOT_PERSONA!r}")

        async with steps.step("An agent answers from the Helpdesk") as step:
            answer = await helpdesk.reply(number, _ANSWER)
            step.note(f"POST /api/v1/conversations/ticket-{number}/messages, id {answer['id']}")

        async with steps.step(f"The answer appears in the thread as {AGENT_PERSONA!r}") as step:

            async def answered() -> dict[str, Any] | None:
                for reply in await thread(channel, root):
                    if reply.get("text") == _ANSWER and reply.get("bot_id"):
                        return dict(reply)
                return None

            reply = await wait_until(answered, "the agent's answer in the thread", within=_WAIT)
            if reply.get("username") != AGENT_PERSONA:
                raise Failure(f"the answer is not posted as {AGENT_PERSONA!r}: {reply}")
            answer_ts = str(reply["ts"])
            step.note(f"ts {answer_ts}")

        async with steps.step("The agent corrects the answer; Slack shows the edit") as step:
            await helpdesk.edit(number, str(answer["id"]), _ANSWER_EDITED)

            async def corrected() -> bool | None:
                texts = {r.get("ts"): r.get("text") for r in await thread(channel, root)}
                return True if texts.get(answer_ts) == _ANSWER_EDITED else None

            await wait_until(corrected, "the corrected answer in Slack", within=_WAIT)
            step.note("PATCH …/messages/{id} → chat.update")

        async with steps.step("bob replies with the printer's log (a file into the Helpdesk)") as s:
            shared = await control.share_text_file(
                ACME, channel, BOB, "printer-log.txt", _LOG, thread_ts=root, comment=_THANKS
            )
            thanks, file_id = str(shared["ts"]), str(shared["file"]["id"])

            async def has_file() -> dict[str, Any] | None:
                found = _message(await helpdesk.ticket(number), thanks)
                return found if found and found["files"] else None

            got = await wait_until(has_file, "bob's reply and file in the ticket", within=_WAIT)
            content = await helpdesk.file(number, file_id)
            if content.decode() != _LOG:
                raise Failure(f"the file's content differs: {content[:80]!r}")
            s.note(f"{got['files'][0]['name']}, {len(content)} bytes through the download URL")

        async with steps.step("bob edits his reply; the ticket shows the edit") as step:
            await control.edit(ACME, channel, BOB, thanks, _THANKS_EDITED)

            async def edited() -> bool | None:
                found = _message(await helpdesk.ticket(number), thanks) or {}
                return True if found.get("edited") and found["text"] == _THANKS_EDITED else None

            await wait_until(edited, "the edited reply in the ticket", within=_WAIT)
            step.note("conversation.message.edited")

        async with steps.step("bob posts by mistake and deletes it; the ticket shows it") as s:
            oops = await control.post(ACME, channel, BOB, _OOPS, thread_ts=root)
            await wait_until(
                lambda: _ticket_has(helpdesk, number, oops), "bob's slip", within=_WAIT
            )
            await control.delete(ACME, channel, BOB, oops)

            async def deleted() -> bool | None:
                found = _message(await helpdesk.ticket(number), oops) or {}
                return True if found.get("deleted") else None

            await wait_until(deleted, "the deletion in the ticket", within=_WAIT)
            s.note("conversation.message.deleted")

        async with steps.step("The agent sends the printer's guide (a file into Slack)") as step:
            await helpdesk.reply(number, _GUIDE_NOTE, files={"printer-guide.txt": _GUIDE})

            async def guide_shared() -> dict[str, Any] | None:
                for reply in await thread(channel, root):
                    names = [f.get("name") for f in reply.get("files") or []]
                    if "printer-guide.txt" in names:
                        return dict(reply)
                return None

            await wait_until(guide_shared, "the guide in the thread", within=_WAIT)
            step.note("files in POST …/messages → files upload v2")

        async with steps.step("The agent takes back a wrong answer; it leaves Slack") as step:
            wrong = await helpdesk.reply(number, _WRONG)

            async def in_thread(text: str) -> bool:
                return any(r.get("text") == text for r in await thread(channel, root))

            await wait_until(
                lambda: _true_or_none(in_thread(_WRONG)), "the wrong answer", within=_WAIT
            )
            await helpdesk.delete(number, str(wrong["id"]))

            async def gone() -> bool | None:
                return None if await in_thread(_WRONG) else True

            await wait_until(gone, "the wrong answer gone from the thread", within=_WAIT)
            step.note("DELETE …/messages/{id} → chat.delete")

        async with steps.step("No echoes: the Helpdesk's own posts never came back") as step:
            current = await helpdesk.ticket(number) or {}
            echoes = [
                m
                for m in current.get("messages", [])
                if not m["from_agent"] and m["author_name"] in (AGENT_PERSONA, BOT_PERSONA)
            ]
            if echoes:
                raise Failure(f"the Helpdesk heard its own posts: {echoes}")
            step.note(f"{len(current.get('messages', []))} messages, none of them an echo")

        async with steps.step("The gateway stops (an outage)") as step:
            caught_before = await _caught_up(http, stack.urls.gateway)
            await stack.stop_gateway()
            step.note("Slack's events now meet a closed port")

        async with steps.step("bob replies in the thread while the gateway is down") as step:
            late = await control.post(ACME, channel, BOB, _WHILE_DOWN, thread_ts=root)

            async def given_up() -> dict[str, Any] | None:
                for delivery in await control.deliveries(str(stack.app_id)):
                    if late in str(delivery.get("body")) and len(delivery["attempts"]) >= 2:
                        return dict(delivery)
                return None

            await wait_until(given_up, "Slack's failed attempts to send the event", within=_WAIT)
            step.note(f"ts {late}; Slack tried twice, its next retry is a minute away")

        async with steps.step("The gateway starts again; catch-up brings bob's reply") as step:
            await stack.restart_gateway()
            await wait_until(
                lambda: _ticket_has(helpdesk, number, late),
                "bob's reply from the outage in the ticket",
                within=_CATCH_UP_WAIT,
            )
            caught = await _caught_up(http, stack.urls.gateway) - caught_before
            if caught < 1:
                raise Failure("the reply came, but not through the catch-up (see /metrics)")
            step.note(f"conversations.replies within the history budget: {caught:g} message")

        async with steps.step("alice marks the question ✅; the ticket is resolved") as step:
            await control.react(ACME, channel, ALICE, root, "white_check_mark")

            async def closed() -> bool | None:
                current = await helpdesk.ticket(number) or {}
                said = any("is resolved" in str(r.get("text")) for r in await thread(channel, root))
                return True if current.get("status") == "resolved" and said else None

            await wait_until(closed, "ticket resolved and the thread told", within=_WAIT)
            step.note("conversation.reaction.added → POST …/close")

        async with steps.step("An agent opens an urgent ticket: a channel of its own") as step:
            urgent = await helpdesk.open_ticket(ACME, _URGENT, [CAROL])
            urgent_number = int(urgent["number"])

            async def placed() -> dict[str, Any] | None:
                found = await helpdesk.ticket(urgent_number) or {}
                return found if found.get("channel_id") and found.get("channel_name") else None

            urgent = await wait_until(placed, "the ticket's channel", within=_WAIT)
            room = str(urgent["channel_id"])
            members = (find_channel(await control.state(), ACME, urgent["channel_name"]) or {}).get(
                "members"
            ) or []
            if CAROL not in members:
                raise Failure(f"carol was not invited into #{urgent['channel_name']}: {members}")
            step.note(f"ticket #{urgent_number} is #{urgent['channel_name']}, carol invited")

        async with steps.step("carol answers in the ticket's channel; the ticket gets it") as step:
            carol_ts = await control.post(ACME, room, CAROL, _CAROL_REPLY)
            await wait_until(
                lambda: _ticket_has(helpdesk, urgent_number, carol_ts),
                "carol's answer in the ticket",
                within=_WAIT,
            )
            step.note("noisy mode: anything in the channel")

        async with steps.step("carol runs /helpdesk; the Helpdesk answers her") as step:
            await control.command(ACME, channel, CAROL, "/helpdesk")

            async def command_answered() -> dict[str, Any] | None:
                commands = (await helpdesk.state())["commands"]
                done = [c for c in commands if c["delivery"] == "sent"]
                return dict(done[0]) if done else None

            command = await wait_until(
                command_answered, "the answer to /helpdesk through its response_url", within=_WAIT
            )
            if f"#{urgent_number}" not in command["answer"]:
                raise Failure(f"the answer does not list ticket #{urgent_number}: {command}")
            step.note("command.invoked → POST /api/v1/responses (ephemeral)")

        async with steps.step("The agent resolves the urgent ticket; its channel is archived") as s:
            await helpdesk.resolve(urgent_number)

            async def archived() -> bool | None:
                found = find_channel(await control.state(), ACME, urgent["channel_name"]) or {}
                return True if found.get("is_archived") else None

            await wait_until(archived, "the ticket's channel archived", within=_WAIT)
            s.note("POST …/close → conversations.archive")


async def _caught_up(http: httpx.AsyncClient, gateway_url: str) -> float:
    """The gateway's ``slackbridge_bridge_catchup_messages_total`` (its /metrics)."""
    response = await http.get(f"{gateway_url}/metrics")
    response.raise_for_status()
    for line in response.text.splitlines():
        if line.startswith("slackbridge_bridge_catchup_messages_total "):
            return float(line.split()[1])
    return 0.0


async def _true_or_none(check: Any) -> bool | None:
    return True if await check else None


async def _ticket_has(helpdesk: _Helpdesk, number: int, ts: str) -> bool | None:
    return True if _message(await helpdesk.ticket(number), ts) is not None else None


def _create(setup: ProductSetup) -> Any:
    return create_helpdesk_app(
        setup.gateway_url, setup.api_key, setup.webhook_secret, account_ref=DEMO_REF
    )


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): choose [bold]Acme[/] and "
        "[bold]alice[/], then Allow.",
        "The demo invites the Helpdesk bot into Acme's [bold]#support[/] for you.",
        f"In the emulator ({urls.emulator}/), open Acme › #support and post a question "
        "(as bob, say).",
        f"In the Helpdesk ({urls.product}/) the question is now a ticket (a conversation of "
        "slackbridge's bridge), and the Helpdesk says so in the thread. Type an answer, "
        "attach a file, send it.",
        "Back in the emulator, the answer is in the thread, posted as “Helpdesk agent”. "
        "Reply there, share a file, edit, delete, react ✅ to resolve it, or run /helpdesk.",
    ]


HELPDESK = register(
    Example(
        name="helpdesk",
        title="the Helpdesk",
        app=HELPDESK_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_walkthrough,
        guide=_guide,
        invite_channel="support",
        gateway_settings=GATEWAY_SETTINGS,
    )
)
