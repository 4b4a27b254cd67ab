"""The Helpdesk's page in a real browser: the ticket list is updated in place (a click that
lands while it refreshes is kept), and Send says why an answer was not sent."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

import httpx
import pytest

from slackbridge.demo.helpdesk import FAVICON_SVG, WEBHOOK_PATH, create_helpdesk_app
from slackbridge.product.signing import generate_secret, sign_headers
from tests.integration.demo.helpdesk_bodies import FakeApi, conversation_opened, message_created
from tests.support.chromium import chromium
from tests.support.servers import RunningServer, serve_asgi

SECRET = generate_secret()
TIMEOUT_MS = 10_000


@dataclass
class _Desk:
    server: RunningServer
    gateway: FakeApi

    async def webhook(self, webhook_id: str, text: str, ts: str, key: str | None) -> None:
        """bob's question (``key`` None) or his reply in ticket ``key``."""
        body = conversation_opened(text, ts) if key is None else message_created(ts, text, key=key)
        headers = sign_headers(SECRET, webhook_id, int(time.time()), body)
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            answer = await client.post(
                WEBHOOK_PATH, content=body, headers={**headers, "content-type": "application/json"}
            )
        assert answer.status_code == 200, answer.text


@pytest.fixture
async def desk() -> AsyncIterator[_Desk]:
    gateway = FakeApi()
    app = create_helpdesk_app(
        "http://slackbridge.test", "sbk_test", SECRET, transport=httpx.MockTransport(gateway)
    )
    async with serve_asgi(app) as server:
        yield _Desk(server, gateway)


@pytest.mark.browser
async def test_a_click_on_a_ticket_survives_a_refresh(desk: _Desk) -> None:
    from playwright.async_api import expect

    await desk.webhook("w1", "The printer is jammed", "1700000000.000100", None)
    await desk.webhook("w2", "VPN is down", "1700000000.000200", None)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(desk.server.url + "/")
        title = page.locator("#t-title")
        await expect(title).to_have_text("#2 VPN is down")  # the newest, shown first
        first = page.locator("#tickets li", has_text="The printer is jammed")
        await expect(first.locator(".sub")).to_contain_text("2 msg")  # and the Helpdesk's note
        await first.evaluate("node => { node.dataset.marker = 'same node' }")

        # Press on ticket #1, let the list refresh with news about it, then release: one click.
        box = await first.bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.mouse.down()
        await desk.webhook("w3", "Still jammed", "1700000000.000300", "ticket-1")
        await expect(first.locator(".sub")).to_contain_text("3 msg")
        await page.mouse.up()

        await expect(title).to_have_text("#1 The printer is jammed")
        await expect(first).to_have_class("active")
        assert await first.get_attribute("data-marker") == "same node"  # updated, not rebuilt
        messages = page.locator("#messages .msg .text")
        await expect(messages).to_have_text(
            [
                "The printer is jammed",
                "Ticket #1 is open: an agent will answer here.",
                "Still jammed",
            ]
        )
        await page.close()
    assert errors == []


@pytest.mark.browser
async def test_send_says_why_an_answer_was_not_sent(desk: _Desk) -> None:
    from playwright.async_api import expect

    await desk.webhook("w1", "The printer is jammed", "1700000000.000100", None)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(desk.server.url + "/")
        await expect(page.locator("#t-title")).to_have_text("#1 The printer is jammed")
        status = page.locator("#reply-error")

        # The gateway is stopped: the Helpdesk cannot hand the answer over, and says so.
        desk.gateway.down = True
        await page.fill("#reply-text", "On my way")
        await page.click("#reply-send")
        await expect(status).to_contain_text("slackbridge is not reachable")
        await expect(page.locator("#reply-text")).to_have_value("On my way")
        await expect(page.locator("#reply-send")).to_be_enabled()

        # The Helpdesk itself stopped: the page says that, and keeps the answer.
        await page.route("**/api/tickets/*/replies", lambda route: route.abort())
        await page.click("#reply-send")
        await expect(status).to_contain_text("cannot reach the Helpdesk")
        await expect(page.locator("#reply-text")).to_have_value("On my way")
        await page.unroute("**/api/tickets/*/replies")
        await page.route("**/api/state", lambda route: route.abort())
        await expect(page.locator("#offline")).to_be_visible()
        await page.unroute("**/api/state")
        await expect(page.locator("#offline")).to_be_hidden()

        # Everything back: sent, the box cleared, the answer in the ticket on its way to Slack.
        desk.gateway.down = False
        await page.click("#reply-send")
        await expect(status).to_have_text("")
        await expect(page.locator("#reply-text")).to_have_value("")
        sent = page.locator("#messages .msg.agent").last
        await expect(sent.locator(".text")).to_have_text("On my way")
        await expect(sent.locator(".state")).to_have_text("sending to Slack…")
        assert [p["text"] for p in desk.gateway.posted()][1:] == ["On my way"]

        # Ctrl+Enter sends too; an empty answer is refused with a word, not silently.
        await page.fill("#reply-text", "   ")
        await page.press("#reply-text", "Control+Enter")
        await expect(status).to_have_text("Write an answer first.")
        await page.close()


@pytest.mark.browser
async def test_an_answer_can_carry_a_file(desk: _Desk) -> None:
    from playwright.async_api import expect

    await desk.webhook("w1", "The printer is jammed", "1700000000.000100", None)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(desk.server.url + "/")
        await expect(page.locator("#t-title")).to_have_text("#1 The printer is jammed")
        await page.fill("#reply-text", "Here is the guide")
        await page.set_input_files(
            "#reply-file",
            files=[{"name": "guide.txt", "mimeType": "text/plain", "buffer": b"1. open tray 2"}],
        )
        await page.click("#reply-send")
        sent = page.locator("#messages .msg.agent").last
        await expect(sent.locator(".text")).to_have_text("Here is the guide\n📎 guide.txt")
        await expect(page.locator("#reply-file")).to_have_value("")
        await page.close()
    (posted,) = desk.gateway.posted()[1:]
    assert posted["text"] == "Here is the guide"
    (shared,) = posted["files"]
    assert (shared["filename"], shared["content_base64"]) == ("guide.txt", "MS4gb3BlbiB0cmF5IDI=")


async def test_the_page_carries_its_icon_inline(desk: _Desk) -> None:
    async with httpx.AsyncClient(base_url=desk.server.url) as client:
        page = await client.get("/")
        icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text == FAVICON_SVG
    (href,) = re.findall(r'<link rel="icon" href="data:image/svg\+xml,([^"]+)">', page.text)
    assert unquote(href) == FAVICON_SVG
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)
