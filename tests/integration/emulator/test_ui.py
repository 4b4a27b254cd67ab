"""The emulator's web page: served offline, and usable in a real browser (Debian's chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import Signal
from slackbridge.emulator.testing import emulator_client, install_app_for_tests, make_test_app
from slackbridge.emulator.ui import FAVICON_SVG, STATIC_DIR
from tests.integration.emulator.helpers import (
    ACME,
    ALICE,
    BOB,
    DAVE,
    GENERAL,
    GLOBEX,
    STAFF,
    SUPPORT,
)
from tests.support.chromium import chromium
from tests.support.servers import bind_loopback, serve_asgi

FRANK, HEIDI = "U0GLBX0002", "U0GLBX0004"
SCREENSHOT = Path("/tmp/slackbridge-emulator-ui.png")
TIMEOUT_MS = 10_000


async def test_page_and_assets_are_served() -> None:
    async with emulator_client(create_app(build_state(rate_limits=False))) as client:
        page = await client.get("/")
        script = await client.get("/ui/static/app.js")
        style = await client.get("/ui/static/style.css")
        missing = await client.get("/ui/static/nope.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/ui/static/app.js">' in page.text
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/_emulator/messages" in script.text
    # Sharing a file, in the channel or in the open thread, goes through the control API.
    assert 'id="composer-file" type="file"' in page.text
    assert 'id="thread-file" type="file"' in page.text
    assert '"/_emulator/files"' in script.text
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404


def test_page_loads_nothing_from_other_hosts() -> None:
    # Offline use: no CDN scripts, fonts or style sheets.
    for path in STATIC_DIR.iterdir():
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path.name
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text), path.name


# --- in a browser -----------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


@pytest.mark.browser
async def test_post_as_user_react_and_see_bot_reply_live(browser: Any) -> None:
    from playwright.async_api import expect

    state = build_state(rate_limits=False)
    bot = install_app_for_tests(state, ACME, channels=["general"])
    async with serve_asgi(create_app(state)) as server:
        page = await browser.new_page(viewport={"width": 1400, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(server.url + "/")

        await expect(page.locator("#channel-title")).to_have_text("# general")
        await expect(page.locator("#installations")).to_contain_text("Test App")
        await page.select_option("#user", BOB)
        await page.fill("#composer-text", "Hello from the browser")
        await page.click("#composer-send")

        mine = page.locator("#messages .message", has_text="Hello from the browser")
        await expect(mine.locator(".author")).to_have_text("Bob Baker")
        await expect(page.locator("#composer-text")).to_have_value("")

        async with httpx.AsyncClient(base_url=server.url, headers=bot.bot_headers) as api:
            seen = (await api.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")).json()
            posted = [m for m in seen["messages"] if m["text"] == "Hello from the browser"]
            assert posted and posted[0]["user"] == BOB

            await mine.hover()
            await mine.locator("[data-quick-reaction=thumbsup]").click()
            # 👍 where emoji render, else a drawn thumb (see test_reactions_are_drawn_…).
            await expect(mine.locator(".reaction.mine[data-reaction=thumbsup]")).to_have_text(
                re.compile(r"^(👍)? 1$")
            )

            reply = await api.post(
                "/api/chat.postMessage",
                data={"channel": GENERAL, "text": "Hi Bob, *on it*", "username": "Helpdesk"},
            )
            assert reply.json()["ok"], reply.text
            in_thread = await api.post(
                "/api/chat.postMessage",
                data={"channel": GENERAL, "text": "Details in here", "thread_ts": posted[0]["ts"]},
            )
            assert in_thread.json()["ok"], in_thread.text

        answer = page.locator("#messages .message", has_text="Hi Bob")
        await expect(answer.locator(".author")).to_have_text("Helpdesk")
        await expect(answer.locator(".badge")).to_have_text("APP")
        await expect(answer.locator(".text b")).to_have_text("on it")
        await mine.locator(".replies-link").click()
        await expect(page.locator("#thread-messages")).to_contain_text("Details in here")
        await page.screenshot(path=str(SCREENSHOT))
        message = state.workspaces[ACME].channels[GENERAL].by_ts[posted[0]["ts"]]
        assert message.reactions == {"thumbsup": [BOB]}

        # Clicking one's own reaction takes it back.
        await mine.locator(".reaction.mine").click()
        await expect(mine.locator(".reaction")).to_have_count(0)
        assert not message.reactions.get("thumbsup")

        # Another workspace: its people, and only the conversations Frank can see.
        await page.select_option("#workspace", GLOBEX)
        await expect(page.locator("#team-name")).to_have_text("Globex")
        await page.select_option("#user", FRANK)
        await expect(page.locator("#channels li")).to_have_text(["# general", "# support", "staff"])
        await _expect_drawn_lock(page.locator("#channels li", has_text="staff"))
        await expect(page.locator("#dms li")).to_have_text(["Erin Evans"])
        await page.select_option("#user", HEIDI)
        await expect(page.locator("#channels li")).to_have_text(["# general", "# support"])
        await expect(page.locator("#dms li")).to_have_count(0)
        await page.close()


async def _expect_drawn_lock(item: Any) -> None:
    """A private channel's lock is drawn (an SVG), not an emoji that needs an emoji font."""
    from playwright.async_api import expect

    lock = item.locator("svg.lock")
    await expect(lock).to_be_visible()
    box = await lock.bounding_box()
    assert box is not None and box["width"] > 4 and box["height"] > 4
    text = await item.text_content()
    assert not re.search("[\u2600-\u27bf\U0001f000-\U0001faff]", text or ""), text


@pytest.mark.browser
async def test_invite_people_and_the_app_bot_from_the_composer(browser: Any) -> None:
    from playwright.async_api import expect

    state = build_state(rate_limits=False)
    bot = install_app_for_tests(state, ACME, channels=["general"])
    support = state.workspaces[ACME].channels[SUPPORT]
    staff = state.workspaces[ACME].channels[STAFF]
    async with serve_asgi(create_app(state)) as server:
        page = await browser.new_page(viewport={"width": 1400, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(server.url + "/")
        await page.select_option("#user", BOB)
        await page.click(f"#channels li[data-channel-id={SUPPORT}]")
        await expect(page.locator("#channel-title")).to_have_text("# support")
        status = page.locator("#status")

        # The app's bot by its bot name, as a person clicking through the demo would.
        await page.fill("#composer-text", "/invite @test_app")
        await page.press("#composer-text", "Enter")
        await expect(status).to_have_text("Added @test_app to #support.")
        await expect(page.locator("#composer-text")).to_have_value("")
        joined = page.locator("#messages .message.system", has_text="has joined the channel")
        await expect(joined).to_contain_text("@Test App has joined the channel")
        assert bot.bot_user_id in support.members

        # People by name (any mix of spellings), one already there, into another channel.
        await page.fill("#composer-text", "/invite @dave <@U0ACME0003>")
        await page.press("#composer-text", "Enter")
        await expect(status).to_have_text("Added @dave to #support. @carol is already in #support.")
        assert DAVE in support.members
        await page.fill("#composer-text", "/invite @Test-App #staff")
        await page.press("#composer-text", "Enter")
        await expect(status).to_have_text("Added @test_app to #staff.")
        assert bot.bot_user_id in staff.members

        # Mistakes are said plainly and invite no one.
        await page.fill("#composer-text", "/invite @nobody")
        await page.press("#composer-text", "Enter")
        await expect(status).to_have_text("/invite: no one called @nobody in Acme")
        await expect(page.locator("#composer-text")).to_have_value("/invite @nobody")
        await page.fill("#composer-text", "/invite")
        await page.press("#composer-text", "Enter")
        await expect(status).to_contain_text("Usage: /invite @name")

        # The private channel shows its lock, drawn, in the sidebar and the channel header.
        await page.click(f"#channels li[data-channel-id={STAFF}]")
        await expect(page.locator("#channel-title")).to_have_text("staff")
        await _expect_drawn_lock(page.locator("#channel-title"))
        await _expect_drawn_lock(page.locator(f"#channels li[data-channel-id={STAFF}]"))
        await page.screenshot(path=str(SCREENSHOT.with_name("slackbridge-emulator-invite.png")))
        await page.close()
    assert errors == []


@pytest.mark.browser
async def test_slash_command_modal_and_button_from_the_page(browser: Any) -> None:
    from playwright.async_api import expect

    emulator_sock, app_sock = bind_loopback(), bind_loopback()
    emulator_url = f"http://127.0.0.1:{emulator_sock.getsockname()[1]}"
    app_url = f"http://127.0.0.1:{app_sock.getsockname()[1]}"
    state = build_state(rate_limits=False)
    app = make_test_app(
        state,
        interactivity_url=f"{app_url}/interactive",
        slash_commands=[("/ticket", f"{app_url}/commands")],
    )
    bot = install_app_for_tests(state, ACME, app=app, channels=["general"])
    clicks: list[dict[str, Any]] = []

    async def web_api(method: str, **args: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=emulator_url, headers=bot.bot_headers) as api:
            answer: dict[str, Any] = (await api.post(f"/api/{method}", json=args)).json()
        assert answer["ok"], answer
        return answer

    async def commands(request: Request) -> Response:
        form = await request.form()
        await web_api("views.open", trigger_id=form["trigger_id"], view=_TICKET_MODAL)
        return Response(status_code=200)

    async def interactive(request: Request) -> Response:
        payload = json.loads(str((await request.form())["payload"]))
        if payload["type"] == "view_submission":
            title = payload["view"]["state"]["values"]["title"]["title_input"]["value"]
            if len(title) < 5:
                return JSONResponse({"response_action": "errors", "errors": {"title": "Too short"}})
            await web_api(
                "chat.postMessage", channel=GENERAL, text=f"Created {title}", blocks=_claim(title)
            )
            return Response(status_code=200)
        clicks.append(payload)
        async with httpx.AsyncClient() as http:
            await http.post(
                payload["response_url"],
                json={"replace_original": True, "text": f"Claimed by <@{payload['user']['id']}>"},
            )
        return Response(status_code=200)

    receiver = Starlette(
        routes=[
            Route("/commands", commands, methods=["POST"]),
            Route("/interactive", interactive, methods=["POST"]),
        ]
    )
    async with (
        serve_asgi(create_app(state), sock=emulator_sock),
        serve_asgi(receiver, sock=app_sock, lifespan="off"),
    ):
        page = await browser.new_page(viewport={"width": 1400, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(emulator_url + "/")
        await page.select_option("#user", BOB)
        await page.fill("#composer-text", "/ticket new")
        await page.press("#composer-text", "Enter")

        modal = page.locator("#modal")
        await expect(modal.locator("#modal-title")).to_have_text("New ticket")
        await modal.locator("input").fill("Bug")
        await modal.locator("#modal-submit").click()
        await expect(modal.locator(".field-error")).to_have_text("Too short")
        await expect(modal.locator("#modal-body")).to_have_text("TitleToo short")
        await page.screenshot(path=str(SCREENSHOT.with_name("slackbridge-emulator-modal.png")))
        await modal.locator("input").fill("Login is broken")
        await modal.locator("#modal-submit").click()
        await expect(modal).to_be_hidden()

        created = page.locator("#messages .message", has_text="Created Login is broken")
        await created.locator("[data-action-id=claim]").click()
        claimed = page.locator("#messages .message", has_text="Claimed by")
        await expect(claimed.locator(".text")).to_have_text("Claimed by @Bob Baker")
        deliveries = page.locator("#deliveries")
        await expect(deliveries.locator("li", has_text="/ticket")).to_contain_text("delivered")
        await expect(deliveries.locator("li", has_text="view_submission")).to_have_count(2)
        await expect(deliveries.locator("li", has_text="block_actions")).to_have_count(1)
        await page.close()

    assert [c["actions"][0]["value"] for c in clicks] == ["Login is broken"]
    assert clicks[0]["user"]["id"] == BOB


_TICKET_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "ticket",
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        }
    ],
}


def _claim(title: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Created {title}"}},
        {
            "type": "actions",
            "block_id": "ticket",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "text": {"type": "plain_text", "text": "Claim"},
                    "value": title,
                }
            ],
        },
    ]


@pytest.mark.browser
async def test_ephemerals_edit_delete_and_the_unreachable_banner(browser: Any) -> None:
    from playwright.async_api import expect

    state = build_state(rate_limits=False)
    bot = install_app_for_tests(state, ACME, channels=["general"])
    signals: list[Signal] = []
    state.listeners.append(signals.append)
    async with serve_asgi(create_app(state)) as server:
        page = await browser.new_page(viewport={"width": 1400, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(server.url + "/")
        await page.select_option("#user", BOB)
        await expect(page.locator("#channel-title")).to_have_text("# general")

        # An app's answer only for Bob (as the Helpdesk answers /helpdesk): Bob sees it, marked.
        async with httpx.AsyncClient(base_url=server.url, headers=bot.bot_headers) as api:
            said = await api.post(
                "/api/chat.postEphemeral",
                data={"channel": GENERAL, "user": BOB, "text": "Your open tickets: none"},
            )
            assert said.json()["ok"], said.text
            alice_said = await api.post(
                "/_emulator/messages",
                json={"channel_id": GENERAL, "user_id": ALICE, "text": "Alice was here"},
            )
            assert alice_said.json()["ok"], alice_said.text
        private = page.locator("#messages .message.ephemeral")
        await expect(private).to_have_count(1)
        await expect(private.locator(".text")).to_have_text("Your open tickets: none")
        await expect(private.locator(".only-you")).to_have_text("Only visible to you")
        await page.select_option("#user", ALICE)
        await expect(page.locator("#messages .message", has_text="Alice was here")).to_be_visible()
        await expect(private).to_have_count(0)
        await page.select_option("#user", BOB)
        await expect(private).to_have_count(1)
        await private.hover()
        await private.locator(".dismiss").click()
        await expect(private).to_have_count(0)

        # Bob edits his own message; Alice's has no edit or delete for him.
        await page.fill("#composer-text", "Teh printer is jammed")
        await page.press("#composer-text", "Enter")
        posted_node = page.locator("#messages .message", has_text="printer is jammed")
        await expect(posted_node).to_have_count(1)
        mine = page.locator(
            f'#messages .message[data-ts="{await posted_node.get_attribute("data-ts")}"]'
        )
        theirs = page.locator("#messages .message", has_text="Alice was here")
        await theirs.hover()
        await expect(theirs.locator("[data-quick-reaction=eyes]")).to_be_visible()
        await expect(theirs.locator(".edit-button, .delete-button")).to_have_count(0)
        await mine.hover()
        await mine.locator(".edit-button").click()
        editor = mine.locator("textarea.edit-text")
        await expect(editor).to_be_focused()
        await expect(editor).to_have_value("Teh printer is jammed")
        await editor.fill("The printer is jam")
        # The channel changes while Bob types: the page redraws it, his draft stays.
        async with httpx.AsyncClient(base_url=server.url) as client:
            reacted = await client.post(
                "/_emulator/reactions",
                json={
                    "channel_id": GENERAL,
                    "user_id": ALICE,
                    "ts": await theirs.get_attribute("data-ts"),
                    "name": "eyes",
                },
            )
            assert reacted.json()["ok"], reacted.text
        await expect(theirs.locator(".reaction[data-reaction=eyes]")).to_be_visible()
        await expect(editor).to_be_focused()
        await expect(editor).to_have_value("The printer is jam")
        await editor.press("End")
        await editor.type("med")
        await editor.press("Enter")
        await expect(mine.locator(".text")).to_have_text("The printer is jammed")
        await expect(mine.locator(".edited")).to_have_text("(edited)")
        general = state.workspaces[ACME].channels[GENERAL]
        (posted,) = [m for m in general.messages if m.user == BOB]
        assert posted.text == "The printer is jammed"
        assert any(s.kind == "message_changed" for s in signals)

        # Escape leaves the message as it was.
        await mine.hover()
        await mine.locator(".edit-button").click()
        await mine.locator("textarea.edit-text").fill("never saved")
        await mine.locator("textarea.edit-text").press("Escape")
        await expect(mine.locator(".text")).to_have_text("The printer is jammed")

        # Delete (after the browser's confirmation): gone from the page and the world.
        await mine.hover()
        await mine.locator(".delete-button").click()
        await expect(page.locator("#messages .message", has_text="printer")).to_have_count(0)
        assert not [m for m in general.messages if m.user == BOB]
        assert any(s.kind == "message_deleted" for s in signals)

        # The emulator goes away: the bar says so; it comes back: the bar clears by itself.
        await page.route("**/_emulator/**", lambda route: route.abort())
        status = page.locator("#status")
        await expect(status).to_contain_text("Cannot reach the emulator")
        await page.unroute("**/_emulator/**")
        await expect(status).to_have_text("")
        await page.screenshot(path=str(SCREENSHOT.with_name("slackbridge-emulator-edit.png")))
        await page.close()
    assert errors == []


@pytest.mark.browser
async def test_reactions_are_drawn_where_emoji_do_not_render(browser: Any) -> None:
    """Without an emoji font the toolbar and the reactions are drawn (or :shortcodes:), never
    empty boxes. The page detects this itself; the test forces it, whatever fonts are here."""
    from playwright.async_api import expect

    state = build_state(rate_limits=False)
    install_app_for_tests(state, ACME, channels=["general"])
    async with serve_asgi(create_app(state)) as server:
        page = await browser.new_page(viewport={"width": 1400, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        await page.add_init_script("localStorage.setItem('sb.emoji', 'fallback')")
        await page.goto(server.url + "/")
        assert await page.evaluate("document.documentElement.dataset.emoji") == "fallback"
        await page.select_option("#user", BOB)
        await page.fill("#composer-text", "React to me")
        await page.press("#composer-text", "Enter")
        mine = page.locator("#messages .message", has_text="React to me")
        await mine.hover()
        tools = mine.locator(".tools button")
        await expect(tools).to_have_count(7)  # 4 reactions, reply, edit, delete
        for i in range(await tools.count()):
            icon = tools.nth(i).locator("svg.icon")
            await expect(icon).to_be_visible()
            box = await icon.bounding_box()
            assert box is not None and box["width"] >= 10 and box["height"] >= 10
        text = await mine.locator(".tools").text_content()
        assert not re.search("[\u2600-\u27bf\U0001f000-\U0001faff]", text or ""), text
        await mine.locator("[data-quick-reaction=white_check_mark]").click()
        pill = mine.locator(".reaction[data-reaction=white_check_mark]")
        await expect(pill).to_have_text(" 1")
        await expect(pill.locator("svg.icon")).to_be_visible()
        async with httpx.AsyncClient(base_url=server.url) as client:
            ts = await mine.get_attribute("data-ts")
            reacted = await client.post(
                "/_emulator/reactions",
                json={"channel_id": GENERAL, "user_id": ALICE, "ts": ts, "name": "sparkles"},
            )
            assert reacted.json()["ok"], reacted.text
        # One the page has no drawing for: its Slack name.
        await expect(mine.locator(".reaction[data-reaction=sparkles]")).to_have_text(":sparkles: 1")
        await page.screenshot(path=str(SCREENSHOT.with_name("slackbridge-emulator-emoji.png")))
        await page.close()


async def test_every_server_page_has_an_inline_icon() -> None:
    async with emulator_client(create_app(build_state(rate_limits=False))) as client:
        page = await client.get("/")
        icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text == FAVICON_SVG
    (href,) = re.findall(r'<link rel="icon" href="data:image/svg\+xml,([^"]+)">', page.text)
    assert unquote(href) == FAVICON_SVG
