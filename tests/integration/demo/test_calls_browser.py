"""The Calls page in a real browser (Debian's chromium): bob opens the link from /call, is asked
to authorize, allows in the tab the button opens, and the waiting page goes on by itself to the
members; Ring starts the call and its link lands in the channel."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.demo.steps import wait_until
from tests.integration.demo.conftest import CallsWorld
from tests.support.chromium import chromium
from tests.support.stack import browser as http_browser

ACME, BOB, STAFF = "T0ACME0001", "U0ACME0002", "G0ACME0STF"
TIMEOUT_MS = 15_000


@pytest.mark.browser
async def test_authorize_then_ring_in_chromium(calls_world: CallsWorld) -> None:
    async with http_browser() as slack_side:
        link = await calls_world.person(slack_side, ACME, BOB).run_call(STAFF)
    async with chromium() as chrome:
        context = await chrome.new_context()
        page = await context.new_page()
        await page.goto(link)
        authorize = page.locator("#authorize")
        await authorize.wait_for(timeout=TIMEOUT_MS)

        # The button opens slackbridge's Add to Slack in a new tab, which goes on to Slack's
        # consent page; bob allows there (the emulator's approval, as its Allow button does).
        async with context.expect_page(timeout=TIMEOUT_MS) as opened:
            await authorize.click()
        consent = await opened.value
        await consent.wait_for_url(f"{calls_world.emulator_url}/oauth/v2/authorize*")
        back = await calls_world.control.approve(consent.url, ACME, BOB)
        await consent.goto(back)
        assert "is now in Acme" in await consent.content()
        await consent.close()

        # The first tab noticed by itself and shows the members, alice ticked.
        table = page.locator("#members")
        await table.wait_for(timeout=TIMEOUT_MS)
        rows = await table.locator("tr[data-user]").all_inner_texts()
        assert any("alice@acme.test" in r and "Alice Archer" in r for r in rows)
        assert await page.locator('input[name="ring"][value="U0ACME0001"]').is_checked()

        await page.click("#ring")
        await page.locator("#ringing").wait_for(timeout=TIMEOUT_MS)
        assert "Alice Archer" in await page.locator("#ringing").inner_text()
        # The call's page refreshes until the link has reached Slack.
        announced = page.locator("#announced", has_text="sent")
        await announced.wait_for(timeout=TIMEOUT_MS)
        await context.close()

    (call,) = (await calls_world.state())["calls"]

    async def posted() -> dict[str, Any] | None:
        for message in await calls_world.control.messages(ACME, STAFF):
            if call["link"] in str(message.get("text")):
                return dict(message)
        return None

    message = await wait_until(posted, "the call's link in #staff")
    assert message["user"] == BOB
