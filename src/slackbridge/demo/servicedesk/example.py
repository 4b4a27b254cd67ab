"""The service desk as the demo's ``servicedesk`` example: its app, guide and walkthrough.

The walkthrough (after the common start-up and install) has bob write to the bot in a public
channel, a private channel and a DM, and carol answer each from the desk: in the thread in the
channels, plainly in the DM. It then shortens the idle time so that every session closes, and
bob's next message opens a new session.
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.client import Slackbridge
from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.servicedesk.app import CLOSING_NOTE, WEBHOOK_PATH, create_servicedesk_app
from slackbridge.demo.servicedesk.sessions import session_key
from slackbridge.demo.stack import DEMO_REF, DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, ALICE, BOB
from slackbridge.demo.steps import Failure, Steps, wait_until
from slackbridge.settings import SlackAppConfig

__all__ = ["SERVICEDESK", "SERVICEDESK_APP", "run_servicedesk_walkthrough"]

#: The service desk's Slack app: the default scopes and ``im:write``, to open a DM with a person.
SERVICEDESK_APP = SlackAppConfig(
    name="servicedesk",
    display_name="Service desk",
    slash_commands=[],
    bot_scopes=[*SlackAppConfig().bot_scopes, "im:write"],
)
_WAIT = 15.0


class _DeskPage(ProductState):
    async def session(self, key: str, status: str = "open") -> dict[str, Any] | None:
        for entry in (await self.state())["sessions"]:
            if entry["key"] == key and entry["status"] == status:
                return dict(entry)
        return None


async def _thread_reply(
    control: EmulatorControl, channel: str, root: str, contains: str
) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        message = find_message(await control.messages(ACME, channel), root) or {}
        for reply in message.get("replies") or []:
            if reply.get("bot_id") and contains in str(reply.get("text")):
                return dict(reply)
        return None

    return await wait_until(found, f"the bot's “{contains}” in the thread", within=_WAIT)


async def _top_level(control: EmulatorControl, channel: str, contains: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        for message in await control.messages(ACME, channel):
            if message.get("bot_id") and contains in str(message.get("text")):
                return dict(message)
        return None

    return await wait_until(found, f"the bot's “{contains}” in {channel}", within=_WAIT)


async def run_servicedesk_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """People write to the bot in three kinds of place; agents answer from the desk."""
    if stack.workspace is None or stack.api_key is None:
        raise RuntimeError("install the app first")
    urls = stack.urls
    bot = str(stack.workspace["bot_user_id"])
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, urls.emulator)
        page = _DeskPage(http, urls.product)

        async def answer(session: dict[str, Any], text: str) -> None:
            sent = await http.post(
                f"{urls.product}/api/sessions/{session['number']}/answer", json={"text": text}
            )
            if sent.status_code != 202:
                raise Failure(f"the desk refused the answer: {sent.status_code} {sent.text}")

        async with steps.step("The desk knows Acme and its bot user") as s:

            async def knows() -> dict[str, Any] | None:
                for ws in (await page.state())["workspaces"]:
                    if ws["team_id"] == ACME and ws["bot_user_id"] == bot:
                        return dict(ws)
                return None

            await wait_until(knows, "Acme on the desk", within=_WAIT)
            s.note(f"bot user {bot}: its own messages never open a session")

        state = await control.state()
        support = find_channel(state, ACME, "support")
        staff = find_channel(state, ACME, "staff")
        if support is None or staff is None:
            raise Failure("Acme has no #support or #staff")
        sup, stf = str(support["id"]), str(staff["id"])

        async with steps.step("alice invites the bot into #support and the private #staff") as s:
            await control.invite(ACME, sup, ALICE, [bot])
            await control.invite(ACME, stf, ALICE, [bot])
            s.note(f"#support {sup}, #staff {stf} (private)")

        async with steps.step("bob writes in #support: a session opens") as s:
            root = await control.post(ACME, sup, BOB, "My invoice shows the wrong address")
            key = session_key(ACME, BOB, sup)
            first = await wait_until(lambda: page.session(key), f"session {key}", within=_WAIT)
            s.note(f"#{first['number']} {key}")

        async with steps.step("bob writes again in #support: the same session") as s:
            await control.post(ACME, sup, BOB, "It should be 1 Main Street")

            async def two_lines() -> dict[str, Any] | None:
                current = await page.session(key) or {}
                return current if len(current.get("entries") or []) == 2 else None

            again = await wait_until(two_lines, "bob's second line in the session", within=_WAIT)
            if again["number"] != first["number"]:
                raise Failure(f"a second session #{again['number']} opened")
            s.note(f"#{again['number']}, 2 lines")

        async with steps.step("carol answers from the desk: in bob's thread in #support") as s:
            await answer(first, "Fixed: the next invoice goes to 1 Main Street")
            reply = await _thread_reply(control, sup, root, "1 Main Street")
            s.note(f"reply {reply['ts']} in the thread of {root}")

        async with steps.step("bob writes in #staff (private): answered in its thread") as s:
            staff_root = await control.post(ACME, stf, BOB, "Can I get a second monitor?")
            staff_key = session_key(ACME, BOB, stf)
            staff_session = await wait_until(
                lambda: page.session(staff_key), f"session {staff_key}", within=_WAIT
            )
            await answer(staff_session, "Yes, one is on its way")
            await _thread_reply(control, stf, staff_root, "on its way")
            s.note(f"#{staff_session['number']} {staff_key}")

        async with steps.step("bob DMs the bot: answered plainly in the DM") as s:
            async with Slackbridge(urls.gateway, stack.api_key) as api:
                opened = await api.slack.call(ACME, "conversations.open", {"users": BOB})
            if not opened.get("ok"):
                raise Failure(f"conversations.open failed: {opened}")
            dm = str(opened["channel"]["id"])
            await control.post(ACME, dm, BOB, "How do I reset my password?")
            dm_key = session_key(ACME, BOB, dm)
            dm_session = await wait_until(
                lambda: page.session(dm_key), f"session {dm_key}", within=_WAIT
            )
            if dm_session["thread_ts"] is not None:
                raise Failure(f"the DM's session has a thread: {dm_session}")
            await answer(dm_session, "Use the link on the sign-in page")
            plain = await _top_level(control, dm, "sign-in page")
            if plain.get("thread_ts"):
                raise Failure(f"the DM answer went in a thread: {plain}")
            s.note(f"#{dm_session['number']} {dm_key}, answer {plain['ts']} not threaded")

        async with steps.step("The bot's own answers opened no session") as s:
            listed = (await page.state())["sessions"]
            if len(listed) != 3 or any(x["user_id"] == bot for x in listed):
                raise Failure(f"expected bob's 3 sessions, the desk has {len(listed)}")
            s.note("3 sessions, all bob's")

        async with steps.step("Idle time set to 1 s: every session closes, bob is told") as s:
            set_idle = await http.post(f"{urls.product}/api/settings", json={"idle_seconds": 1})
            if set_idle.status_code != 200:
                raise Failure(f"the desk refused the idle time: {set_idle.text}")

            async def all_closed() -> list[dict[str, Any]] | None:
                listed = (await page.state())["sessions"]
                return listed if all(x["status"] == "closed" for x in listed) else None

            await wait_until(all_closed, "every session closed", within=_WAIT)
            await _top_level(control, dm, CLOSING_NOTE[:30])
            s.note("3 closed (idle); the closing note in the DM")

        async with steps.step("bob writes in the DM again: a new session opens") as s:
            await http.post(f"{urls.product}/api/settings", json={"idle_seconds": 900})
            await control.post(ACME, dm, BOB, "One more thing")
            new = await wait_until(lambda: page.session(dm_key), "a new session", within=_WAIT)
            if new["number"] == dm_session["number"]:
                raise Failure("the closed session was reopened")
            s.note(f"#{new['number']} {dm_key} (was #{dm_session['number']})")


def _create(setup: ProductSetup) -> Any:
    return create_servicedesk_app(
        setup.gateway_url, setup.api_key, setup.webhook_secret, account_ref=DEMO_REF
    )


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): choose [bold]Acme[/] and "
        "[bold]alice[/], then Allow.",
        "The demo invites the Service desk bot into Acme's [bold]#support[/] for you.",
        f"In the emulator ({urls.emulator}/), write in #support as bob, or DM the bot.",
        f"Answer from the desk ({urls.product}/): in the thread in a channel, plainly in a DM. "
        "Sessions close after the idle time set on the desk.",
    ]


SERVICEDESK = register(
    Example(
        name="servicedesk",
        title="the service desk",
        app=SERVICEDESK_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_servicedesk_walkthrough,
        guide=_guide,
        invite_channel="support",
    )
)
