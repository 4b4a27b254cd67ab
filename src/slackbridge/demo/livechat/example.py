"""The live chat as the demo's ``livechat`` example: its app, guide and walkthrough.

The walkthrough (after the common start-up and the install, whose Add to Slack made the live
chat's account) signs alice in to the console with Sign in with Slack, chooses still chats in
#support, and has a visitor write: the chat is a thread under a card with Claim and Close. Carol
claims it, answers in the thread (the visitor's page hears it over server-sent events), files go
both ways, and Carol closes it through the modal with a resolution note, which closes it on the
visitor's side too. Then alice switches to noisy chats, and the next chat gets its own channel.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.livechat.app import WEBHOOK_PATH, SlackOidc, create_livechat_app
from slackbridge.demo.livechat.chats import CLAIM_ACTION, CLOSE_ACTION, CLOSE_CALLBACK
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.stack import DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, ALICE, CAROL
from slackbridge.demo.steps import Failure, Steps, wait_until
from slackbridge.settings import SlackAppConfig

__all__ = ["LIVECHAT", "LIVECHAT_APP", "VisitorStream", "run_livechat_walkthrough"]

#: The live chat's Slack app: the default scopes plus ``channels:manage`` (a channel per chat)
#: and ``im:write``; no slash command.
LIVECHAT_APP = SlackAppConfig(
    name="livechat",
    display_name="Live chat",
    slash_commands=[],
    bot_scopes=[*SlackAppConfig().bot_scopes, "channels:manage", "groups:write", "im:write"],
)
CONSOLE_CALLBACK = "/console/callback"
_WAIT = 20.0
_NO_BRIDGE = "the gateway has no conversation bridge"


class VisitorStream:
    """A visitor's page listening to its chat's server-sent events (in the background)."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._task = asyncio.create_task(self._listen(http, url))

    async def _listen(self, http: httpx.AsyncClient, url: str) -> None:
        async with http.stream("GET", url, timeout=None) as response:
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    self.events.append((kind, orjson.loads(line[6:])))

    async def seen(self, kind: str, test: Any, what: str) -> dict[str, Any]:
        """The first event of ``kind`` whose data passes ``test`` (waiting for it)."""

        async def found() -> dict[str, Any] | None:
            if self._task.done() and self._task.exception() is not None:
                raise Failure(f"the visitor's event stream broke: {self._task.exception()}")
            return next((d for k, d in self.events if k == kind and test(d)), None)

        return await wait_until(found, what, within=_WAIT)

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


@contextlib.asynccontextmanager
async def _listening(http: httpx.AsyncClient, url: str) -> AsyncIterator[VisitorStream]:
    stream = VisitorStream(http, url)
    try:
        yield stream
    finally:
        await stream.aclose()


class _Live(ProductState):
    async def chat(self, number: int) -> dict[str, Any] | None:
        return await self.find("chats", "number", number)


async def _root_with(control: EmulatorControl, channel: str, contains: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        for message in await control.messages(ACME, channel):
            if contains in str(message.get("blocks")) or contains in str(message.get("text")):
                return dict(message)
        return None

    return await wait_until(found, f"a message with “{contains}” in {channel}", within=_WAIT)


async def _reply_with(
    control: EmulatorControl, channel: str, root: str, test: Any, what: str
) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        message = find_message(await control.messages(ACME, channel), root) or {}
        return next((dict(r) for r in message.get("replies") or [] if test(r)), None)

    return await wait_until(found, what, within=_WAIT)


async def run_livechat_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """A visitor's chat from the first message to the closing note, then a noisy one."""
    if stack.workspace is None or stack.api_key is None:
        raise RuntimeError("install the app first")
    urls = stack.urls
    bot = str(stack.workspace["bot_user_id"])
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        httpx.AsyncClient(timeout=10.0, follow_redirects=False) as browser,
    ):
        control = EmulatorControl(http, urls.emulator)
        live = _Live(http, urls.product)

        async with steps.step("Add to Slack made the live chat's account on the way") as s:

            async def account() -> dict[str, Any] | None:
                for a in (await live.state())["accounts"]:
                    if a["team_id"] == ACME:
                        return dict(a)
                return None

            acct = await wait_until(account, "an account tied to Acme", within=_WAIT)
            account_id = str(acct["id"])
            s.note(f"{account_id} → Acme, no sign-up before it")

        async with steps.step("The gateway has the conversation bridge") as s:
            listed = await http.get(
                f"{urls.api}/conversations",
                params={"workspace": ACME},
                headers={"Authorization": f"Bearer {stack.api_key}"},
            )
            if listed.status_code != 200:
                raise Failure(f"{_NO_BRIDGE} (GET /api/v1/conversations: {listed.status_code})")
            s.note("GET /api/v1/conversations answers")

        async with steps.step("alice signs in to the console with Sign in with Slack") as s:
            start = await browser.get(f"{urls.product}/console/login")
            authorize = start.headers.get("location", "")
            if start.status_code != 302 or "/openid/connect/authorize" not in authorize:
                raise Failure(f"/console/login answered {start.status_code} ({authorize})")
            page = await browser.get(authorize)
            if page.status_code != 200:
                raise Failure(f"Slack's sign-in page answered {page.status_code}")
            back = await control.approve(authorize, ACME, ALICE)
            done = await browser.get(back)
            if done.status_code != 303 or "livechat_session" not in done.cookies:
                raise Failure(f"the callback answered {done.status_code}: {done.text[:200]}")
            browser.cookies.set("livechat_session", done.cookies["livechat_session"])
            console = await browser.get(f"{urls.product}/console")
            if "Alice Archer" not in console.text:
                raise Failure("the console does not show alice signed in")
            s.note("openid.connect.token + openid.connect.userInfo → Alice Archer")

        sup = str((find_channel(await control.state(), ACME, "support") or {}).get("id"))
        async with steps.step("alice sends chats to threads in #support (still)") as s:
            await control.invite(ACME, sup, ALICE, [bot])
            chosen = await browser.post(
                f"{urls.product}/console/accounts/{account_id}",
                json={"mode": "still", "channel_id": sup},
            )
            if chosen.status_code != 200:
                raise Failure(f"the console refused: {chosen.text}")
            s.note(f"still, #support {sup}")

        async with steps.step("A visitor writes: a card in #support, the chat in its thread") as s:
            opened = await http.post(
                f"{urls.product}/api/accounts/{account_id}/chats",
                json={"visitor": "Vera Visitor", "text": "Do you ship to Norway?"},
            )
            if opened.status_code != 201:
                raise Failure(f"the widget's chat was refused: {opened.text}")
            chat = opened.json()["chat"]
            token = chat["token"]
            card = await _root_with(control, sup, CLAIM_ACTION)
            root = str(card["ts"])
            await _reply_with(
                control,
                sup,
                root,
                lambda r: "Norway" in str(r.get("text")) and r.get("username") == "Vera Visitor",
                "the visitor's message in the thread, as Vera Visitor",
            )
            s.note(f"{chat['key']}: card {root}, the visitor as a persona in the thread")

        events_url = f"{urls.product}/api/chats/{chat['number']}/events?token={token}"
        async with _listening(http, events_url) as visitor:
            async with steps.step("carol clicks Claim: the card says she has it") as s:
                await control.click(ACME, sup, CAROL, root, CLAIM_ACTION)
                await _root_with(control, sup, "Claimed by Carol")
                await visitor.seen("claimed", lambda d: True, "the visitor told it is claimed")
                s.note("card updated; the visitor sees “Carol Chen is answering”")

            async with steps.step("carol answers in the thread: the visitor sees it live") as s:
                await control.post(ACME, sup, CAROL, "Yes, in 3 working days", thread_ts=root)
                said = await visitor.seen(
                    "message",
                    lambda d: d["who"] == "agent" and "3 working" in d["text"],
                    "the answer on the visitor's page",
                )
                s.note(f"server-sent event from {said['name']}")

            async with steps.step(
                "Files both ways: the visitor's in the thread, carol's on the page"
            ) as s:
                shot = base64.b64encode(b"order 1042").decode()
                sent = await http.post(
                    f"{urls.product}/api/chats/{chat['number']}/messages",
                    params={"token": token},
                    json={
                        "text": "My order",
                        "files": [{"filename": "order.txt", "content_base64": shot}],
                    },
                )
                if sent.status_code != 202:
                    raise Failure(f"the visitor's file was refused: {sent.text}")
                await _reply_with(
                    control,
                    sup,
                    root,
                    lambda r: any(f.get("name") == "order.txt" for f in r.get("files") or []),
                    "the visitor's file in the thread",
                )
                await control.share_file(
                    ACME, sup, CAROL, "label.txt", "SHIP-TO NORWAY", thread_ts=root
                )
                with_file = await visitor.seen(
                    "message",
                    lambda d: any(f["name"] == "label.txt" for f in d["files"]),
                    "carol's file on the visitor's page",
                )
                link = with_file["files"][0]["url"]
                got = await http.get(f"{urls.product}{link}", params={"token": token})
                if got.content != b"SHIP-TO NORWAY":
                    raise Failure(f"the visitor downloaded {got.status_code} {got.content[:60]!r}")
                s.note("order.txt → Slack; label.txt → the visitor, through the gateway")

            async with steps.step("carol clicks Close: a modal asks for the resolution note") as s:
                await control.click(ACME, sup, CAROL, root, CLOSE_ACTION)

                async def modal() -> dict[str, Any] | None:
                    for view in (await control.state()).get("views") or []:
                        if (
                            view.get("callback_id") == CLOSE_CALLBACK
                            and view.get("user_id") == CAROL
                        ):
                            return dict(view)
                    return None

                view = await wait_until(modal, "the close modal open for carol", within=_WAIT)
                s.note(f"modal {view['id']}")

            async with steps.step("carol submits the note: the chat closes on both sides") as s:
                await control.submit_view(
                    str(view["id"]), CAROL, {"note": {"note": "Shipping to Norway confirmed"}}
                )
                closed = await visitor.seen(
                    "closed",
                    lambda d: d.get("note") == "Shipping to Norway confirmed",
                    "the visitor told the chat is closed, with the note",
                )
                await _reply_with(
                    control,
                    sup,
                    root,
                    lambda r: "Shipping to Norway confirmed" in str(r.get("text")),
                    "the closing message in the thread",
                )
                await _root_with(control, sup, "Closed by Carol")
                s.note(f"closed by {closed['closed_by']}: the visitor, the thread and the card")

        async with steps.step("alice switches to noisy: the next chat gets its own channel") as s:
            chosen = await browser.post(
                f"{urls.product}/console/accounts/{account_id}", json={"mode": "noisy"}
            )
            if chosen.status_code != 200:
                raise Failure(f"the console refused: {chosen.text}")
            opened = await http.post(
                f"{urls.product}/api/accounts/{account_id}/chats",
                json={"visitor": "Nils", "text": "Is the shop open on Sunday?"},
            )
            if opened.status_code != 201:
                raise Failure(f"the second chat was refused: {opened.text}")
            second = opened.json()["chat"]

            async def channel() -> dict[str, Any] | None:
                return find_channel(await control.state(), ACME, second["key"])

            own = await wait_until(channel, f"the channel #{second['key']}", within=_WAIT)
            await _root_with(control, str(own["id"]), "Sunday")
            s.note(f"#{own['name']} ({own['id']}), alice invited")

        async with steps.step("An answer in the chat's channel reaches the visitor") as s:
            events_url = (
                f"{urls.product}/api/chats/{second['number']}/events?token={second['token']}"
            )
            async with _listening(http, events_url) as visitor:
                await control.invite(ACME, str(own["id"]), ALICE, [CAROL])
                await control.post(ACME, str(own["id"]), CAROL, "Yes, 10 to 4")
                await visitor.seen(
                    "message",
                    lambda d: d["who"] == "agent" and "10 to 4" in d["text"],
                    "the answer on Nils's page",
                )
            s.note(f"#{own['name']} → Nils, live")


def _create(setup: ProductSetup) -> Any:
    oidc = None
    if setup.client_id and setup.client_secret and setup.slack_url and setup.slack_api_url:
        oidc = SlackOidc(setup.slack_url, setup.slack_api_url, setup.client_id, setup.client_secret)
    return create_livechat_app(setup.gateway_url, setup.api_key, setup.webhook_secret, oidc=oidc)


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): it makes your live chat account on the "
        "way; choose [bold]Acme[/] and [bold]alice[/], then Allow.",
        f"Open the console ({urls.product}/console) and [bold]Sign in with Slack[/] as alice; "
        "send chats to threads in #support, or to a channel each.",
        f"Open the account's website from the front page ({urls.product}/) and write in the "
        "chat widget.",
        f"In the emulator ({urls.emulator}/), as carol: [bold]Claim[/] the card, answer in the "
        "thread (the visitor sees it at once), then [bold]Close[/] with a resolution note.",
    ]


LIVECHAT = register(
    Example(
        name="livechat",
        title="the live chat",
        app=LIVECHAT_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_livechat_walkthrough,
        guide=_guide,
        invite_channel="support",
        redirect_paths=(CONSOLE_CALLBACK,),
    )
)
