"""Calls as a demo example: ``slackbridge demo calls [--scripted]``.

The walkthrough (after the common start-up and alice's install, :mod:`slackbridge.demo.startup`)
does what bob would do by hand: ``/call`` in #general, opening the link, authorizing with Slack
once, seeing the members with their emails, Ring, and the call's link in the channel; then the
same in the private #staff, his DM with alice and the group DM with alice and carol, with no
second prompt. The bot is invited nowhere: every link is posted with bob's own token.
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.demo.calls.config import CALL_COMMAND, CALLS_APP, DEMO_ACCOUNTS
from slackbridge.demo.calls.person import CallsPerson, MemberRow, call_state, members_of
from slackbridge.demo.calls.service import WEBHOOK_PATH, create_calls_app
from slackbridge.demo.control import EmulatorControl, find_channel
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.stack import DEMO_REF, DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, BOB
from slackbridge.demo.steps import Failure, Steps, wait_until

__all__ = ["CALLS", "run_walkthrough"]

_WAIT = 15.0
#: Where bob runs /call after #general: (channel id, how the steps call it).
_MORE = (
    ("G0ACME0STF", "the private #staff"),
    ("D0ACME0001", "his DM with alice"),
    ("G0ACME0MPM", "the group DM with alice and carol"),
)


def _describe(members: list[MemberRow]) -> str:
    return ", ".join(f"{m.name} <{m.email}> → {m.account}" for m in members)


async def _posted(control: EmulatorControl, channel: str, link: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        for message in await control.messages(ACME, channel):
            if link in str(message.get("text") or ""):
                return dict(message)
        return None

    return await wait_until(found, f"the call's link in {channel}", within=_WAIT)


async def _ring_and_check(
    bob: CallsPerson, http: httpx.AsyncClient, urls: DemoUrls, page: httpx.Response, where: str
) -> None:
    call_page = await bob.ring(page)
    if call_page.status_code != 200:
        raise Failure(f"the call's page answered {call_page.status_code}")
    calls = (await call_state(http, urls.product))["calls"]
    call = calls[-1]
    message = await _posted(bob.control, call["channel_id"], call["link"])
    if message.get("user") != BOB or message.get("bot_id"):
        raise Failure(f"the link in {where} was not posted as bob: {message}")


async def run_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """What bob does with Calls once the app is installed in Acme; raises StepFailed at the
    first failure."""
    urls = stack.urls
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        httpx.AsyncClient(timeout=10.0, follow_redirects=False) as browser,
    ):
        control = EmulatorControl(http, urls.emulator)
        bob = CallsPerson(browser, control, ACME, BOB)

        async with steps.step("bob runs /call in #general; only he sees the link") as step:
            link = await bob.run_call("C0ACME0GEN")
            step.note("command.matched → POST /api/v1/responses (ephemeral), a single-use key")

        async with steps.step("bob opens the link: Calls asks him to authorize with Slack") as s:
            page = await bob.open(link)
            if 'id="authorize"' not in page.text:
                raise Failure("the page did not ask bob to authorize")
            s.note(str(page.url))

        async with steps.step("bob authorizes once (Add to Slack with user scopes)") as step:
            await bob.authorize(page, urls.emulator, urls.gateway)
            page = await bob.wait_authorized(str(page.url))
            step.note("his user token is kept by slackbridge, encrypted; the page goes on")

        async with steps.step("The page lists #general's members with their emails") as step:
            members = members_of(page.text)
            emails = {m.email for m in members}
            if not {"alice@acme.test", "carol@acme.test", "dave@acme.test"} <= emails:
                raise Failure(f"members missing: {_describe(members)}")
            step.note(_describe(members))

        async with steps.step("bob presses Ring: the call rings alice and carol") as step:
            await _ring_and_check(bob, http, urls, page, "#general")
            call = (await call_state(http, urls.product))["calls"][-1]
            if sorted(call["ringing"]) != ["acct-alice", "acct-carol"]:
                raise Failure(f"the call rings {call['ringing']}")
            general = find_channel(await control.state(), ACME, "general") or {}
            bot = (stack.workspace or {}).get("bot_user_id")
            where = "not a member" if bot not in (general.get("members") or []) else "a member"
            step.note(f"call #{call['id']}; its link posted in #general as bob (the bot: {where})")

        for channel, where in _MORE:
            async with steps.step(f"/call in {where}: no second prompt, Ring, link posted") as s:
                page = await bob.open(await bob.run_call(channel))
                if 'id="authorize"' in page.text:
                    raise Failure("bob was asked to authorize again")
                members = members_of(page.text)
                await _ring_and_check(bob, http, urls, page, where)
                s.note(f"{len(members)} members; link posted in {channel}")

        async with steps.step("A used link is refused in another browser") as step:
            async with httpx.AsyncClient(timeout=10.0) as other:
                again = await other.get(link)
            if again.status_code != 410:
                raise Failure(f"the used link answered {again.status_code}")
            step.note("410 This call link was already used")

        async with steps.step("Every call's link reached Slack (message.delivered)") as step:

            async def delivered() -> list[Any] | None:
                calls = (await call_state(http, urls.product))["calls"]
                return calls if all(c["announced"] == "sent" for c in calls) else None

            calls = await wait_until(delivered, "every link delivered", within=_WAIT)
            step.note(f"{len(calls)} calls")


def _create(setup: ProductSetup) -> Any:
    return create_calls_app(
        setup.gateway_url,
        setup.api_key,
        setup.webhook_secret,
        DEMO_ACCOUNTS,
        public_url=setup.product_url,
        account_ref=DEMO_REF,
    )


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): choose [bold]Acme[/] and "
        "[bold]alice[/], then Allow (alice grants her user token too).",
        f"In the emulator ({urls.emulator}/), as [bold]bob[/], run [bold]/call[/] in any "
        "conversation: #general, the private #staff, a DM or the group DM.",
        "Open the link only bob sees. The first time, authorize with Slack as bob (Acme, "
        "bob, Allow); the page goes on by itself.",
        "See the members with their emails and accounts, press [bold]Ring[/]: the call's link "
        "is posted in the conversation as bob. Next /call: no prompt.",
        f"The calls are listed at {urls.product}/.",
    ]


CALLS = register(
    Example(
        name="calls",
        title="Calls",
        app=CALLS_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_walkthrough,
        guide=_guide,
        gateway_settings={"commands": [CALL_COMMAND]},
    )
)
