"""A person using Calls, over HTTP as a browser would: run ``/call`` in Slack (the emulator), read
the ephemeral link, open it, authorize with Slack if asked, read the members and Ring.

The scripted walkthrough and the integration tests drive the example through this; every
method raises :class:`~slackbridge.demo.steps.Failure` saying what was expected and what came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin

import httpx

from slackbridge.demo.control import EmulatorControl
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.steps import Failure, wait_until

__all__ = ["CallsPerson", "MemberRow", "call_state", "link_in", "members_of"]

_LINK = re.compile(r"<(https?://[^|>]+/join/[A-Za-z0-9_-]+)\|")
_ROW = re.compile(
    r'<tr data-user="(?P<user>[^"]+)">\s*<td>(?P<box>.*?)</td>\s*<td>(?P<name>.*?)</td>\s*'
    r'<td class="email">(?P<email>.*?)</td>\s*<td>(?P<account>.*?)</td>',
    re.S,
)
_TAG = re.compile(r"<[^>]+>")
_WAIT = 15.0


def link_in(text: str) -> str | None:
    """The join link in the text of the ephemeral answer to ``/call``."""
    found = _LINK.search(text)
    return found.group(1) if found else None


@dataclass(frozen=True)
class MemberRow:
    """One row of the members table."""

    user_id: str
    name: str
    email: str
    account: str  # the account's name, "no account" or "bot"
    can_ring: bool


def _text(html: str) -> str:
    return unescape(_TAG.sub("", html)).strip()


def members_of(page: str) -> list[MemberRow]:
    """The members table of a session page."""
    return [
        MemberRow(
            m["user"],
            _text(m["name"]).removesuffix(" you").strip(),
            _text(m["email"]),
            _text(m["account"]),
            'name="ring"' in m["box"],
        )
        for m in _ROW.finditer(page)
    ]


class CallsPerson:
    """One person (``user_id`` of ``team_id``) with one browser (a cookie jar)."""

    def __init__(
        self, browser: httpx.AsyncClient, control: EmulatorControl, team_id: str, user_id: str
    ) -> None:
        self.browser = browser
        self.control = control
        self.team_id = team_id
        self.user_id = user_id

    async def run_call(self, channel_id: str, text: str = "") -> str:
        """Run ``/call`` in ``channel_id``; the join link of the ephemeral answer."""
        before = len(await self.control.ephemerals(self.team_id, channel_id, self.user_id))
        await self.control.command(self.team_id, channel_id, self.user_id, "/call", text)

        async def answered() -> str | None:
            seen = await self.control.ephemerals(self.team_id, channel_id, self.user_id)
            for message in seen[before:]:
                link = link_in(str(message.get("text") or ""))
                if link:
                    return link
            return None

        return await wait_until(answered, "the ephemeral answer to /call", within=_WAIT)

    async def open(self, link: str) -> httpx.Response:
        """Open the join link; the page it leads to (in this browser)."""
        first = await self.browser.get(link)
        if first.status_code != 303:
            raise Failure(
                f"{link} answered {first.status_code}, not a redirect: {first.text[:200]}"
            )
        return await self.browser.get(urljoin(link, first.headers["location"]))

    async def authorize(self, page: httpx.Response, emulator_url: str, gateway_url: str) -> None:
        """Click "Authorize with Slack" on ``page`` and Allow on Slack's consent page."""
        if 'id="authorize"' not in page.text:
            raise Failure("the page does not ask to authorize with Slack")
        start = await self.browser.get(str(page.url).rstrip("/") + "/authorize")
        hops = 0
        while start.status_code == 302 and not start.headers["location"].startswith(emulator_url):
            start = await self.browser.get(start.headers["location"])
            hops += 1
            if hops > 3:
                break
        authorize = start.headers.get("location", "")
        if start.status_code != 302 or not authorize.startswith(emulator_url):
            raise Failure(f"authorize did not lead to Slack's consent page ({start.status_code})")
        back = await self.control.approve(authorize, self.team_id, self.user_id)
        if not back.startswith(gateway_url + "/slack/oauth/callback"):
            raise Failure(f"Slack sent the browser to {back}, not the gateway's callback")
        done = await self.browser.get(back)
        if done.status_code != 200:
            raise Failure(f"the gateway's callback answered {done.status_code}: {done.text[:200]}")

    async def wait_authorized(self, page_url: str) -> httpx.Response:
        """Wait (as the page's script does) until the service knows the grant; the page then."""
        api = page_url.replace("/sessions/", "/api/sessions/")

        async def authorized() -> bool | None:
            answer = await self.browser.get(api)
            return True if answer.status_code == 200 and answer.json()["authorized"] else None

        await wait_until(authorized, "the service to see the authorization", within=_WAIT)
        return await self.browser.get(page_url)

    async def ring(self, page: httpx.Response, ring: list[str] | None = None) -> httpx.Response:
        """Press Ring on a members page (with the ticked boxes, or ``ring``); the call's page."""
        members = members_of(page.text)
        if not members:
            raise Failure("the page shows no members to ring")
        chosen = ring if ring is not None else _ticked(page.text)
        answer = await self.browser.post(str(page.url).rstrip("/") + "/ring", data={"ring": chosen})
        if answer.status_code != 303:
            raise Failure(f"Ring answered {answer.status_code}: {answer.text[:200]}")
        return await self.browser.get(urljoin(str(page.url), answer.headers["location"]))


def _ticked(page: str) -> list[str]:
    return re.findall(r'name="ring" value="([^"]+)"[^>]*\bchecked\b', page)


async def call_state(http: httpx.AsyncClient, calls_url: str) -> dict[str, Any]:
    """The service's ``/api/state``."""
    return await ProductState(http, calls_url).state()
