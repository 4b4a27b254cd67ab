"""Calls against the real emulator and gateway on loopback: /call in every kind of
conversation answers with a single-use link; the person authorizes once per workspace; the page
lists the members (all pages) with emails matched to accounts; Ring posts the call's link as
the person, also where the bot is not a member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from slackbridge.demo.calls import WEBHOOK_PATH, create_calls_app
from slackbridge.demo.calls.config import CALL_COMMAND, CALLS_APP, DEMO_ACCOUNTS
from slackbridge.demo.calls.person import CallsPerson, call_state, members_of
from slackbridge.demo.control import EmulatorControl
from slackbridge.demo.steps import wait_until
from slackbridge.emulator.seed import build_state
from slackbridge.product.signing import generate_secret
from slackbridge.store.repositories.api_keys import ApiKeysRepository
from tests.support.servers import bind_loopback, serve_asgi
from tests.support.stack import (
    GatewayServer,
    browser,
    install_via_browser,
    run_emulator,
    run_gateway,
)

ACME, ALICE, BOB, CAROL, DAVE = "T0ACME0001", "U0ACME0001", "U0ACME0002", "U0ACME0003", "U0ACME0004"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"
GENERAL, STAFF, DM, MPIM = "C0ACME0GEN", "G0ACME0STF", "D0ACME0001", "G0ACME0MPM"
REF = "calls"


@dataclass
class World:
    url: str
    gateway: GatewayServer
    control: EmulatorControl
    http: httpx.AsyncClient
    emulator_url: str
    emulator: Any

    def person(self, client: httpx.AsyncClient, team: str, user: str) -> CallsPerson:
        return CallsPerson(client, self.control, team, user)

    async def state(self) -> dict[str, Any]:
        return await call_state(self.http, self.url)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Emulator + gateway (the calls app with /call declared) + the Calls service, installed
    into Acme by alice under the service's ref. Members come 2 per page, to test paging."""
    secret = generate_secret()
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        run_emulator(build_state(rate_limits=False)) as emulator,
        run_gateway(
            emulator,
            tmp_path,
            apps=[CALLS_APP],
            commands=[CALL_COMMAND],
            webhook_url=url + WEBHOOK_PATH,
            webhook_secret=secret,
        ) as gateway,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        await gateway.provision(
            CALLS_APP.name,
            display_name=CALLS_APP.display_name,
            slash_commands=CALLS_APP.slash_commands,
            user_scopes=CALLS_APP.user_scopes,
        )
        key = await ApiKeysRepository(gateway.gateway.db, gateway.gateway.keyring).create("t")
        app = create_calls_app(
            gateway.url,
            key.secret,
            secret,
            DEMO_ACCOUNTS,
            public_url=url,
            account_ref=REF,
            members_page_size=2,
        )
        async with serve_asgi(app, sock=sock):
            async with browser() as admin:
                page = await install_via_browser(admin, gateway, ACME, ALICE, ref=REF)
            assert page.status_code == 200, page.text
            world = World(
                url, gateway, EmulatorControl(http, emulator.url), http, emulator.url, emulator
            )

            async def granted() -> bool | None:
                return (
                    True
                    if {"team_id": ACME, "user_id": ALICE} in (await world.state())["grants"]
                    else None
                )

            await wait_until(granted, "alice's grant from workspace.installed")
            yield world


async def test_call_in_a_private_channel_rings_members_and_posts_the_link(world: World) -> None:
    async with browser() as b:
        bob = world.person(b, ACME, BOB)
        link = await bob.run_call(STAFF)
        page = await bob.open(link)
        # bob never authorized: the page asks, once.
        assert page.status_code == 200 and 'id="authorize"' in page.text
        await bob.authorize(page, world.emulator_url, world.gateway.url)
        page = await bob.wait_authorized(str(page.url))
        members = members_of(page.text)
        assert [(m.user_id, m.email, m.account, m.can_ring) for m in members] == [
            (ALICE, "alice@acme.test", "Alice Archer", True),
            (BOB, "bob@acme.test", "Bob Baker", False),  # bob himself
        ]
        call_page = await bob.ring(page)
        assert call_page.status_code == 200 and "Alice Archer" in call_page.text

    state = await world.state()
    (call,) = state["calls"]
    assert (call["channel_id"], call["user_id"], call["started_by"], call["ringing"]) == (
        STAFF,
        BOB,
        "acct-bob",
        ["acct-alice"],
    )

    async def posted() -> dict[str, Any] | None:
        for m in await world.control.messages(ACME, STAFF):
            if call["link"] in str(m.get("text")):
                return m
        return None

    message = await wait_until(posted, "the call's link in #staff")
    # Posted as bob (his user token), where the bot is not a member.
    assert message["user"] == BOB and not message.get("bot_id")
    posts = world.emulator.calls_to("chat.postMessage", channel=STAFF)
    assert posts and posts[-1].authorization.startswith("Bearer xoxp-")
    # conversations.members was read with bob's token, a page of 2 at a time.
    reads = world.emulator.calls_to("conversations.members", channel=STAFF)
    assert reads and all(c.authorization.startswith("Bearer xoxp-") for c in reads)

    async def delivered() -> dict[str, Any] | None:
        current = (await world.state())["calls"][0]
        return current if current["announced"] == "sent" else None

    assert (await wait_until(delivered, "message.delivered"))["announced_ts"] == message["ts"]


async def test_every_kind_of_conversation_and_no_second_prompt(world: World) -> None:
    async with browser() as b:
        alice = world.person(b, ACME, ALICE)  # authorized when she installed
        for channel in (GENERAL, STAFF, DM, MPIM):
            page = await alice.open(await alice.run_call(channel))
            assert 'id="authorize"' not in page.text, channel
            members = members_of(page.text)
            assert ALICE in {m.user_id for m in members}
            await alice.ring(page)
    # #general has all four people (paged 2 by 2) and dave has no account here.
    general = next(c for c in (await world.state())["calls"] if c["channel_id"] == GENERAL)
    assert general["ringing"] == ["acct-bob", "acct-carol"]
    dm = next(c for c in (await world.state())["calls"] if c["channel_id"] == DM)
    assert dm["channel_kind"] == "im" and dm["ringing"] == ["acct-bob"]

    async def all_posted() -> bool | None:
        calls = (await world.state())["calls"]
        return True if all(c["announced"] == "sent" for c in calls) else None

    await wait_until(all_posted, "every call's link posted")
    assert len(world.emulator.calls_to("conversations.members", channel=GENERAL)) >= 2


async def test_dave_unmatched_and_named_people_preselected(world: World) -> None:
    async with browser() as b:
        alice = world.person(b, ACME, ALICE)
        page = await alice.open(await alice.run_call(GENERAL, f"<@{CAROL}>"))
        rows = {m.user_id: m for m in members_of(page.text)}
        assert rows[DAVE].account == "no account" and not rows[DAVE].can_ring
        assert rows[DAVE].email == "dave@acme.test"
        await alice.ring(page)
    (call,) = (await world.state())["calls"]
    assert call["ringing"] == ["acct-carol"]


async def test_the_link_works_once_and_only_in_its_browser(world: World) -> None:
    async with browser() as first, browser() as second:
        alice = world.person(first, ACME, ALICE)
        link = await alice.run_call(GENERAL)
        page = await alice.open(link)
        assert page.status_code == 200
        again = await first.get(link)  # the same browser is sent back to its page
        assert again.status_code == 303
        stranger = await second.get(link)
        assert stranger.status_code == 410 and "already used" in stranger.text
        stolen = await second.get(str(page.url))
        assert stolen.status_code == 404
        unknown = await second.get(f"{world.url}/join/nope")
        assert unknown.status_code == 404


async def test_a_person_in_two_workspaces_authorizes_in_each(world: World) -> None:
    async with browser() as admin:
        page = await install_via_browser(admin, world.gateway, GLOBEX, ERIN, ref=REF)
    assert page.status_code == 200
    async with browser() as b:
        bob = world.person(b, ACME, BOB)
        page = await bob.open(await bob.run_call(GENERAL))
        await bob.authorize(page, world.emulator_url, world.gateway.url)
        await bob.wait_authorized(str(page.url))
        erin = world.person(b, GLOBEX, ERIN)
        page = await erin.open(await erin.run_call("C0GLBX0GEN"))
        assert 'id="authorize"' not in page.text  # erin granted hers when installing Globex
    grants = (await world.state())["grants"]
    assert {"team_id": ACME, "user_id": BOB} in grants
    assert {"team_id": GLOBEX, "user_id": ERIN} in grants
