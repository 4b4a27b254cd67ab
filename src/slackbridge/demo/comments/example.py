"""Code comments as the demo's ``comments`` example: two Slack apps on one gateway, the guide and
the walkthrough.

The common start-up provisions and installs "Comments (prod)" into Acme; the walkthrough then
provisions "Comments (dev)" on the same gateway and installs it into Globex, and each
environment hears only its own app. In prod, Pat's comment on line 12 is shared to #support
(the snippet and View comment), bob replies in Slack, alice (whose email is a Slack user's)
and Pat (whose is not) reply on the page, edits and deletions go both ways, and carol's click
on View comment is known by her email. Finally dev shares a comment to Globex through its own
app.
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.client import Slackbridge
from slackbridge.demo.comments.app import WEBHOOK_PATH, create_comments_app
from slackbridge.demo.comments.review import VIEW_ACTION
from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.stack import DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, ALICE, BOB, CAROL
from slackbridge.demo.steps import Failure, Steps, wait_until
from slackbridge.settings import SlackAppConfig

__all__ = ["COMMENTS", "COMMENTS_DEV_APP", "COMMENTS_PROD_APP", "run_comments_walkthrough"]

#: The two Slack apps, one per environment, on one gateway.
COMMENTS_PROD_APP = SlackAppConfig(
    name="comments", display_name="Comments (prod)", slash_commands=[]
)
COMMENTS_DEV_APP = SlackAppConfig(
    name="comments-dev", display_name="Comments (dev)", slash_commands=[]
)
GLOBEX = "T0GLBX0001"
ERIN = "U0GLBX0001"
_WAIT = 20.0


class _Comments(ProductState):
    async def env(self, name: str) -> dict[str, Any]:
        envs: dict[str, Any] = (await self.state())["envs"]
        return dict(envs[name])

    async def comment(self, env: str, number: int) -> dict[str, Any]:
        for c in (await self.env(env))["comments"]:
            if c["number"] == number:
                return dict(c)
        raise Failure(f"no comment {number} in {env}")


async def _install_dev(stack: DemoStack, control: EmulatorControl) -> str:
    """Add to Slack for dev into Globex as erin, as a browser does it; the page's words."""
    urls = stack.urls
    async with httpx.AsyncClient(follow_redirects=False, timeout=10.0) as browser:
        start = await browser.get(f"{urls.product}/dev/install")
        if start.status_code == 302 and start.headers["location"].startswith(urls.gateway):
            start = await browser.get(start.headers["location"])
        authorize = start.headers.get("location", "")
        if not authorize.startswith(urls.emulator):
            raise Failure(f"/dev/install did not lead to Slack's consent page ({authorize})")
        consent = await browser.get(authorize)
        if "Comments (dev)" not in consent.text:
            raise Failure("the consent page is not Comments (dev)'s")
        back = await control.approve(authorize, GLOBEX, ERIN)
        done = await browser.get(back)
        if done.status_code != 200 or "is now in Globex" not in done.text:
            raise Failure(f"the callback answered {done.status_code}: {done.text[:200]}")
        return "Comments (dev) is now in Globex"


async def run_comments_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """Two environments on one gateway; a comment discussed both ways."""
    if stack.workspace is None or stack.api_key is None:
        raise RuntimeError("install the app first")
    urls = stack.urls
    prod_bot = str(stack.workspace["bot_user_id"])
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, urls.emulator)
        page = _Comments(http, urls.product)

        async with steps.step("Provision Comments (dev) too, on the same gateway") as s:
            dev = await stack.provision(COMMENTS_DEV_APP)
            dev_app = str(dev.app.app_id)
            if dev_app == stack.app_id:
                raise Failure("dev and prod got the same Slack app")
            s.note(f"apps.manifest.create → {dev_app} (prod is {stack.app_id})")

        async with steps.step("Install Comments (dev) into Globex as erin") as s:
            # A dev app living in another workspace: distribution on, as on Slack.
            opened = await http.post(
                f"{urls.emulator}/_emulator/apps/{dev_app}/distribution", json={"enabled": True}
            )
            if opened.status_code != 200:
                raise Failure(f"the emulator refused distribution: {opened.text}")
            s.note(await _install_dev(stack, control))

        async with steps.step("Each environment knows its own app and workspace") as s:

            async def both() -> dict[str, Any] | None:
                envs = (await page.state())["envs"]
                prod, dev_env = envs["prod"], envs["dev"]
                if (prod["app_id"], prod["team_id"]) == (stack.app_id, ACME) and (
                    dev_env["app_id"],
                    dev_env["team_id"],
                ) == (dev_app, GLOBEX):
                    return dict(envs)
                return None

            await wait_until(both, "prod in Acme and dev in Globex", within=_WAIT)
            s.note(f"prod: {stack.app_id} in Acme; dev: {dev_app} in Globex")

        async with steps.step("The gateway has the conversation bridge") as s:
            listed = await http.get(
                f"{urls.api}/conversations",
                headers={"Authorization": f"Bearer {stack.api_key}"},
            )
            if listed.status_code != 200:
                raise Failure(
                    "the gateway has no conversation bridge "
                    f"(GET /api/v1/conversations: {listed.status_code})"
                )
            s.note("GET /api/v1/conversations answers")

        sup = str((find_channel(await control.state(), ACME, "support") or {}).get("id"))
        async with steps.step("Pat comments on line 12 and shares it to #support") as s:
            await control.invite(ACME, sup, ALICE, [prod_bot])
            made = await http.post(
                f"{urls.product}/prod/api/comments",
                json={"line": 12, "author": "p-pat", "text": "Round before adding tax?"},
            )
            shared = await http.post(
                f"{urls.product}/prod/api/comments/1/share", json={"channel": sup}
            )
            if made.status_code != 201 or shared.status_code != 200:
                raise Failure(f"the page refused: {made.text} {shared.text}")

            async def card() -> dict[str, Any] | None:
                for message in await control.messages(ACME, sup):
                    if "View comment" in str(message.get("blocks")):
                        return dict(message)
                return None

            posted = await wait_until(card, "the shared comment in #support", within=_WAIT)
            root = str(posted["ts"])
            if "taxed = amount" not in str(posted.get("blocks")):
                raise Failure("the card has no code snippet")
            if posted.get("app_id") != stack.app_id:
                raise Failure(f"the card was posted by {posted.get('app_id')}, not prod's app")
            s.note(f"card {root}: the snippet and View comment, by Comments (prod)")

        async def thread_reply(test: Any, what: str) -> dict[str, Any]:
            async def found() -> dict[str, Any] | None:
                message = find_message(await control.messages(ACME, sup), root) or {}
                return next((dict(r) for r in message.get("replies") or [] if test(r)), None)

            return await wait_until(found, what, within=_WAIT)

        async def page_reply(test: Any, what: str) -> dict[str, Any]:
            async def found() -> dict[str, Any] | None:
                comment = await page.comment("prod", 1)
                return next((dict(r) for r in comment["replies"] if test(r)), None)

            return await wait_until(found, what, within=_WAIT)

        async with steps.step("bob replies in the thread: it appears under the comment") as s:
            bob_ts = await control.post(ACME, sup, BOB, "Rounding twice loses a cent", root)
            seen = await page_reply(
                lambda r: "loses a cent" in r["text"], "bob's reply on the page"
            )
            s.note(f"{seen['name']} ({seen['email']}) on the page")

        async with steps.step("alice replies on the page: in Slack under her Slack name") as s:
            sent = await http.post(
                f"{urls.product}/prod/api/comments/1/replies",
                json={"author": "p-alice", "text": "Agreed, round once"},
            )
            if sent.status_code != 201:
                raise Failure(f"the page refused the reply: {sent.text}")
            reply = await thread_reply(
                lambda r: "round once" in str(r.get("text")), "alice's reply in the thread"
            )
            if reply.get("username") != "Alice Archer":
                raise Failure(f"alice's reply shows as {reply.get('username')!r}")
            if "avatars.example.org" in str(reply.get("icons")):
                raise Failure("alice's reply shows the review tool's avatar, not her Slack one")
            s.note(f"as “{reply['username']}” with her Slack avatar (her email is a Slack user's)")

        async with steps.step("Pat replies on the page: in Slack as the persona Pat Quinn") as s:
            sent = await http.post(
                f"{urls.product}/prod/api/comments/1/replies",
                json={"author": "p-pat", "text": "Fixed in 3f2a"},
            )
            pat_id = str(sent.json()["reply"]["id"])
            reply = await thread_reply(
                lambda r: "3f2a" in str(r.get("text")), "Pat's reply in the thread"
            )
            if reply.get("username") != "Pat Quinn":
                raise Failure(f"Pat's reply shows as {reply.get('username')!r}")
            if "avatars.example.org/pat" not in str(reply.get("icons")):
                raise Failure(f"Pat's reply does not show Pat's avatar: {reply.get('icons')}")
            s.note("no Slack user has Pat's email: a persona with Pat's name and avatar")

        async with steps.step("Edits go both ways") as s:
            await control.edit(ACME, sup, BOB, bob_ts, "Rounding twice loses a cent sometimes")
            await page_reply(lambda r: r["text"].endswith("sometimes"), "bob's edit on the page")
            changed = await http.patch(
                f"{urls.product}/prod/api/comments/1/replies/{pat_id}",
                json={"text": "Fixed in 4b1c"},
            )
            if changed.status_code != 200:
                raise Failure(f"the page refused the edit: {changed.text}")
            await thread_reply(lambda r: "4b1c" in str(r.get("text")), "Pat's edit in Slack")
            s.note("bob's in Slack → the page; Pat's on the page → Slack")

        async with steps.step("Deletions go both ways") as s:
            await control.delete(ACME, sup, BOB, bob_ts)
            await page_reply(
                lambda r: r["deleted"] and r["ts"] == bob_ts, "bob's reply deleted on the page"
            )
            gone = await http.delete(f"{urls.product}/prod/api/comments/1/replies/{pat_id}")
            if gone.status_code != 200:
                raise Failure(f"the page refused the deletion: {gone.text}")

            async def pat_gone() -> bool | None:
                message = find_message(await control.messages(ACME, sup), root) or {}
                texts = [str(r.get("text")) for r in message.get("replies") or []]
                return True if not any("4b1c" in t for t in texts) else None

            await wait_until(pat_gone, "Pat's reply gone from the thread", within=_WAIT)
            s.note("bob's in Slack → the page; Pat's on the page → Slack")

        async with steps.step("carol clicks View comment: known by her email") as s:
            await control.click(ACME, sup, CAROL, root, VIEW_ACTION)

            async def viewed() -> dict[str, Any] | None:
                comment = await page.comment("prod", 1)
                return next(
                    (v for v in comment["viewed_by"] if v["email"] == "carol@acme.test"), None
                )

            await wait_until(viewed, "carol@acme.test among the viewers", within=_WAIT)
            s.note("carol@acme.test (no account here)")

        async with steps.step("Comments (dev) shares to Globex through its own app") as s:
            async with Slackbridge(urls.gateway, stack.api_key) as api:
                globex = await api.workspaces.get(GLOBEX, app_id=dev_app)
            general = "C0GLBX0GEN"
            await control.invite(GLOBEX, general, ERIN, [str(globex.bot_user_id)])
            await http.post(
                f"{urls.product}/dev/api/comments",
                json={"line": 3, "author": "p-bob", "text": "Name the type?"},
            )
            shared = await http.post(
                f"{urls.product}/dev/api/comments/1/share", json={"channel": general}
            )
            if shared.status_code != 200:
                raise Failure(f"dev refused to share: {shared.text}")

            async def dev_card() -> dict[str, Any] | None:
                for message in await control.messages(GLOBEX, general):
                    if "View comment" in str(message.get("blocks")):
                        return dict(message)
                return None

            posted = await wait_until(dev_card, "dev's card in Globex #general", within=_WAIT)
            if posted.get("app_id") != dev_app:
                raise Failure(f"dev's card was posted by {posted.get('app_id')}")
            s.note(f"by {dev_app}; prod's comments untouched")


def _create(setup: ProductSetup) -> Any:
    return create_comments_app(
        setup.gateway_url, setup.api_key, setup.webhook_secret, setup.product_url
    )


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): Comments (prod) into [bold]Acme[/] as "
        "[bold]alice[/]; Comments (dev) has its own Add to Slack on "
        f"{urls.product}/dev/ (try Globex).",
        f"On the review page ({urls.product}/prod/), comment on a line and share it to "
        "#support (the demo invites the bot there).",
        f"In the emulator ({urls.emulator}/), reply in the thread, edit, delete; reply, edit and "
        "delete on the page too; click View comment.",
    ]


COMMENTS = register(
    Example(
        name="comments",
        title="Comments",
        app=COMMENTS_PROD_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_comments_walkthrough,
        guide=_guide,
        invite_channel="support",
        extra_apps=(COMMENTS_DEV_APP,),
    )
)
