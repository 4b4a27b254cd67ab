"""The chat widget's script in a real browser (Debian's chromium), on a fake gateway that speaks
the bridge's contract: the visitor's first message opens the chat, an agent's answer (a webhook)
appears at once over server-sent events, with its file as a link, and the closing note ends the
chat on the page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from slackbridge.demo.livechat.app import LivechatApp, create_livechat_app
from slackbridge.demo.livechat.chats import CLOSE_CALLBACK
from slackbridge.product.signing import generate_secret
from tests.support.chromium import chromium
from tests.support.example_app import signed_webhook
from tests.support.fake_bridge import FakeBridge, conversation_webhook
from tests.support.servers import serve_asgi

SECRET = generate_secret()
TIMEOUT_MS = 15_000


async def _webhook(url: str, webhook_id: str, kind: str, data: dict[str, Any]) -> None:
    body, headers = signed_webhook(SECRET, webhook_id, kind, data)
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{url}/webhooks/slackbridge", content=body, headers=headers)
    assert answer.status_code == 200


@pytest.mark.browser
async def test_the_widget_shows_answers_live(tmp_path: Any) -> None:
    from playwright.async_api import expect

    fake = FakeBridge()
    fake.files["F1"] = b"label"
    app = create_livechat_app(
        "http://gateway.test", "sbk_test", SECRET, transport=httpx.ASGITransport(app=fake.app)
    )
    live: LivechatApp = app.state.livechat
    account = live.live.new_account()
    live.live.installed(account.id, "T0ACME0001", "Acme")
    account.channel_id = "C0ACME0SUP"
    async with chromium() as browser, serve_asgi(app) as server:
        page = await browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(f"{server.url}/site/{account.id}")
        await expect(page.locator("h1")).to_have_text("Welcome to Acme's website")
        await page.fill("#name", "Vera")
        await page.fill("#text", "Do you ship to Norway?")
        await page.click("#send")
        await expect(page.locator("#status")).to_have_text("Waiting for an agent…")
        await expect(page.locator("#log .visitor")).to_have_text("You: Do you ship to Norway?")
        assert fake.called("POST", "/conversations/chat-0001/messages")[0]["author"] == {
            "persona": {"name": "Vera", "icon_emoji": ":bust_in_silhouette:"}
        }

        conversation = fake.conversations["chat-0001"]
        answer = {
            "ts": "1796000001.000200",
            "text": "Yes, in 3 days",
            "files": [
                {
                    "id": "F1",
                    "name": "label.txt",
                    "mimetype": "text/plain",
                    "size": 5,
                    "download_url": "/api/v1/files/T0ACME0001/F1/content",
                }
            ],
            "author": {"name": "carol", "real_name": "Carol Chen", "bot_id": None},
            "product_message_id": None,
        }
        data = conversation_webhook("conversation.message.created", conversation, message=answer)
        await _webhook(server.url, "w1", "conversation.message.created", data)
        said = page.locator("#log .agent")
        await expect(said).to_contain_text("Carol Chen: Yes, in 3 days")
        link = said.locator("a.file")
        await expect(link).to_contain_text("label.txt")
        href = await link.get_attribute("href")
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{server.url}{href}")).content == b"label"

        submitted = {
            "workspace": {"team_id": "T0ACME0001"},
            "user": {"id": "U0ACME0003", "real_name": "Carol Chen"},
            "view": {
                "callback_id": CLOSE_CALLBACK,
                "private_metadata": "chat-0001",
                "values": {"note": {"note": {"type": "plain_text_input", "value": "Shipped"}}},
            },
        }
        await _webhook(server.url, "w2", "interaction.view_submission", submitted)
        await expect(page.locator("#status")).to_have_text("Chat closed: Shipped")
        await expect(page.locator("#send")).to_be_disabled()
        await live.drain()
        await page.close()
    assert fake.called("POST", "/conversations/chat-0001/close") == [
        {"message": "Closed by Carol Chen: Shipped"}
    ]
