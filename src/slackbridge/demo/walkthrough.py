"""The Helpdesk as the demo's first example: its app, its guide and its scripted walkthrough.

The walkthrough (after the common start-up and install, :mod:`slackbridge.demo.startup`) does
what a person would do by hand, over HTTP: inviting the bot, posting in #support as Slack users
through the emulator's control API, answering from the Helpdesk's page, and checks each effect
where a person would see it (the Helpdesk's page, the Slack thread, the gateway's API).
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.helpdesk import AGENT_PERSONA, WEBHOOK_PATH, create_helpdesk_app
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
_QUESTION = "Hi! The printer on floor 3 is jammed again. Can someone help?"
_ANSWER = "On it! Open tray 2, pull the stuck sheet gently, and press the green button."
_THANKS = "That did it, thanks!"
_THANKS_EDITED = "That did it, thanks! All 40 pages printed."
_WAIT = 15.0  # seconds any one effect may take (everything is local; it usually takes < 1 s)


class _Helpdesk(ProductState):
    """The Helpdesk's own JSON API, which its web page uses."""

    async def ticket(self, root_ts: str) -> dict[str, Any] | None:
        return await self.find("tickets", "root_ts", root_ts)

    async def reply(self, number: int, text: str) -> dict[str, Any]:
        response = await self._http.post(
            f"{self._base}/api/tickets/{number}/replies", json={"text": text, "as": "agent"}
        )
        if response.status_code != 202:
            raise Failure(f"the Helpdesk refused the reply: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result


async def run_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """What a person would do with the Helpdesk once it is installed in Acme; raises
    StepFailed at the first failure."""
    if stack.workspace is None:
        raise RuntimeError("install the app first")
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, stack.urls.emulator)
        helpdesk = _Helpdesk(http, stack.urls.product)
        bot_user = str(stack.workspace["bot_user_id"])

        async with steps.step("alice invites the Helpdesk bot into #support") as step:
            support = find_channel(await control.state(), ACME, "support")
            if support is None:
                raise Failure("Acme has no #support channel")
            channel = str(support["id"])
            await control.invite(ACME, channel, ALICE, [bot_user])
            step.note(f"#support is {channel}")

        async with steps.step("bob asks a question in #support") as step:
            root = await control.post(ACME, channel, BOB, _QUESTION)
            step.note(f"ts {root}")

        async with steps.step("The Helpdesk opens a ticket (message.posted webhook)") as step:
            ticket = await wait_until(
                lambda: helpdesk.ticket(root), "a ticket for bob's question", within=_WAIT
            )
            number = int(ticket["number"])
            step.note(f"ticket #{number} from {ticket['requester_name']}: {ticket['subject']}")

        async with steps.step("The Helpdesk acknowledges it with 👀 in Slack") as step:

            async def acknowledged() -> bool | None:
                found = find_message(await control.messages(ACME, channel), root)
                reactions = (found or {}).get("reactions") or []
                return True if any(r.get("name") == "eyes" for r in reactions) else None

            await wait_until(acknowledged, "an :eyes: reaction on the question", within=_WAIT)
            step.note("reactions.add through the API pass-through")

        async with steps.step("An agent answers from the Helpdesk (product API)") as step:
            queued = await helpdesk.reply(number, _ANSWER)
            step.note(f"202, operation {queued['operation_id']}")

        async with steps.step("The answer appears in the Slack thread as the bot") as step:

            async def answered() -> dict[str, Any] | None:
                found = find_message(await control.messages(ACME, channel), root) or {}
                for reply in found.get("replies") or []:
                    if reply.get("text") == _ANSWER and reply.get("bot_id"):
                        return dict(reply)
                return None

            reply = await wait_until(answered, "the agent's reply in the thread", within=_WAIT)
            if reply.get("username") != AGENT_PERSONA:
                raise Failure(f"the reply is not posted as {AGENT_PERSONA!r}: {reply}")
            step.note(f"ts {reply['ts']} by {reply['bot_id']} as {reply['username']!r}")

        async with steps.step("The Helpdesk sees it delivered (message.delivered)") as step:

            async def delivered() -> dict[str, Any] | None:
                current = await helpdesk.ticket(root) or {}
                for message in current.get("messages", []):
                    if message["from_agent"] and message["delivery"] == "sent":
                        return dict(message)
                return None

            sent = await wait_until(delivered, "the reply marked sent", within=_WAIT)
            step.note(f"ts {sent['ts']}")

        async with steps.step("bob replies in the thread") as step:
            thanks = await control.post(ACME, channel, BOB, _THANKS, thread_ts=root)
            step.note(f"ts {thanks}")

        async with steps.step("The ticket gets bob's reply") as step:

            async def has_reply() -> dict[str, Any] | None:
                current = await helpdesk.ticket(root) or {}
                texts = {m["ts"]: m for m in current.get("messages", [])}
                return dict(current) if thanks in texts else None

            current = await wait_until(has_reply, "bob's reply in the ticket", within=_WAIT)
            step.note(f"{len(current['messages'])} messages, status {current['status']}")

        async with steps.step("bob edits his reply; the ticket shows the edit") as step:
            await control.edit(ACME, channel, BOB, thanks, _THANKS_EDITED)

            async def edited() -> bool | None:
                current = await helpdesk.ticket(root) or {}
                return next(
                    (
                        True
                        for m in current.get("messages", [])
                        if m["ts"] == thanks and m["edited"] and m["text"] == _THANKS_EDITED
                    ),
                    None,
                )

            await wait_until(edited, "the edited reply in the ticket", within=_WAIT)
            step.note("message.edited")

        async with steps.step("carol runs /helpdesk; the Helpdesk answers her") as step:
            await control.command(ACME, channel, CAROL, "/helpdesk")

            async def command_answered() -> dict[str, Any] | None:
                commands = (await helpdesk.state())["commands"]
                done = [c for c in commands if c["delivery"] == "sent"]
                return dict(done[0]) if done else None

            command = await wait_until(
                command_answered, "the answer to /helpdesk through its response_url", within=_WAIT
            )
            if f"#{number}" not in command["answer"]:
                raise Failure(f"the answer does not list ticket #{number}: {command['answer']}")
            step.note("command.invoked → POST /api/v1/responses (ephemeral)")

        async with steps.step("alice marks the question ✅; the ticket is resolved") as step:
            await control.react(ACME, channel, ALICE, root, "white_check_mark")

            async def resolved() -> bool | None:
                current = await helpdesk.ticket(root) or {}
                return True if current.get("status") == "resolved" else None

            await wait_until(resolved, "ticket resolved", within=_WAIT)
            step.note("reaction.added")


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
        f"In the Helpdesk ({urls.product}/) the question is now a ticket, marked 👀 in "
        "Slack. Type an answer and send it.",
        "Back in the emulator, the answer is in the thread, posted as “Helpdesk agent”. "
        "Reply there, edit, react ✅ to resolve it, or run /helpdesk.",
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
    )
)
