"""Calls against the real emulator and gateway on loopback: /call in every kind of
conversation answers with a single-use link; the person authorizes once per workspace; the page
lists the members (all pages) with emails matched to accounts; Ring posts the call's link as
the person, also where the bot is not a member."""

from __future__ import annotations

from typing import Any

from slackbridge.demo.calls.person import members_of
from slackbridge.demo.steps import wait_until
from tests.integration.demo.conftest import BOB_AT_GLOBEX, CALLS_REF, CallsWorld
from tests.support.stack import browser, install_via_browser

ACME, ALICE, BOB, CAROL, DAVE = "T0ACME0001", "U0ACME0001", "U0ACME0002", "U0ACME0003", "U0ACME0004"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"
GENERAL, STAFF, DM, MPIM = "C0ACME0GEN", "G0ACME0STF", "D0ACME0001", "G0ACME0MPM"


async def test_call_in_a_private_channel_rings_members_and_posts_the_link(
    calls_world: CallsWorld,
) -> None:
    async with browser() as b:
        bob = calls_world.person(b, ACME, BOB)
        link = await bob.run_call(STAFF)
        page = await bob.open(link)
        # bob never authorized: the page asks, once.
        assert page.status_code == 200 and 'id="authorize"' in page.text
        await bob.authorize(page, calls_world.emulator_url, calls_world.gateway.url)
        page = await bob.wait_authorized(str(page.url))
        members = members_of(page.text)
        assert [(m.user_id, m.email, m.account, m.can_ring) for m in members] == [
            (ALICE, "alice@acme.test", "Alice Archer", True),
            (BOB, "bob@acme.test", "Bob Baker", False),  # bob himself
        ]
        call_page = await bob.ring(page)
        assert call_page.status_code == 200 and "Alice Archer" in call_page.text

    state = await calls_world.state()
    (call,) = state["calls"]
    assert (call["channel_id"], call["user_id"], call["started_by"], call["ringing"]) == (
        STAFF,
        BOB,
        "acct-bob",
        ["acct-alice"],
    )

    async def posted() -> dict[str, Any] | None:
        for m in await calls_world.control.messages(ACME, STAFF):
            if call["link"] in str(m.get("text")):
                return m
        return None

    message = await wait_until(posted, "the call's link in #staff")
    # Posted as bob (his user token), where the bot is not a member.
    assert message["user"] == BOB and not message.get("bot_id")
    posts = calls_world.emulator.calls_to("chat.postMessage", channel=STAFF)
    assert posts and posts[-1].authorization.startswith("Bearer xoxp-")
    # conversations.members was read with bob's token, a page of 2 at a time.
    reads = calls_world.emulator.calls_to("conversations.members", channel=STAFF)
    assert reads and all(c.authorization.startswith("Bearer xoxp-") for c in reads)

    async def delivered() -> dict[str, Any] | None:
        current = (await calls_world.state())["calls"][0]
        return current if current["announced"] == "sent" else None

    assert (await wait_until(delivered, "message.delivered"))["announced_ts"] == message["ts"]


async def test_every_kind_of_conversation_and_no_second_prompt(calls_world: CallsWorld) -> None:
    async with browser() as b:
        alice = calls_world.person(b, ACME, ALICE)  # authorized when she installed
        for channel in (GENERAL, STAFF, DM, MPIM):
            page = await alice.open(await alice.run_call(channel))
            assert 'id="authorize"' not in page.text, channel
            members = members_of(page.text)
            assert ALICE in {m.user_id for m in members}
            await alice.ring(page)
    # #general has all four people (paged 2 by 2) and dave has no account here.
    general = next(c for c in (await calls_world.state())["calls"] if c["channel_id"] == GENERAL)
    assert general["ringing"] == ["acct-bob", "acct-carol"]
    dm = next(c for c in (await calls_world.state())["calls"] if c["channel_id"] == DM)
    assert dm["channel_kind"] == "im" and dm["ringing"] == ["acct-bob"]

    async def all_posted() -> bool | None:
        calls = (await calls_world.state())["calls"]
        return True if all(c["announced"] == "sent" for c in calls) else None

    await wait_until(all_posted, "every call's link posted")
    assert len(calls_world.emulator.calls_to("conversations.members", channel=GENERAL)) >= 2


async def test_dave_unmatched_and_named_people_preselected(calls_world: CallsWorld) -> None:
    async with browser() as b:
        alice = calls_world.person(b, ACME, ALICE)
        page = await alice.open(await alice.run_call(GENERAL, f"<@{CAROL}>"))
        rows = {m.user_id: m for m in members_of(page.text)}
        assert rows[DAVE].account == "no account" and not rows[DAVE].can_ring
        assert rows[DAVE].email == "dave@acme.test"
        await alice.ring(page)
    (call,) = (await calls_world.state())["calls"]
    assert call["ringing"] == ["acct-carol"]


async def test_the_link_works_once_and_only_in_its_browser(calls_world: CallsWorld) -> None:
    async with browser() as first, browser() as second:
        alice = calls_world.person(first, ACME, ALICE)
        link = await alice.run_call(GENERAL)
        page = await alice.open(link)
        assert page.status_code == 200
        again = await first.get(link)  # the same browser is sent back to its page
        assert again.status_code == 303
        stranger = await second.get(link)
        assert stranger.status_code == 410 and "already used" in stranger.text
        stolen = await second.get(str(page.url))
        assert stolen.status_code == 404
        unknown = await second.get(f"{calls_world.url}/join/nope")
        assert unknown.status_code == 404


async def test_a_person_in_two_workspaces_authorizes_in_each(calls_world: CallsWorld) -> None:
    async with browser() as admin:
        page = await install_via_browser(admin, calls_world.gateway, GLOBEX, ERIN, ref=CALLS_REF)
    assert page.status_code == 200
    async with browser() as b:
        bob = calls_world.person(b, ACME, BOB)
        page = await bob.open(await bob.run_call(GENERAL))
        await bob.authorize(page, calls_world.emulator_url, calls_world.gateway.url)
        await bob.wait_authorized(str(page.url))
        # The same bob in Globex (another user id): his Acme token doesn't count there.
        bob_globex = calls_world.person(b, GLOBEX, BOB_AT_GLOBEX)
        page = await bob_globex.open(await bob_globex.run_call("C0GLBX0GEN"))
        assert 'id="authorize"' in page.text
        await bob_globex.authorize(page, calls_world.emulator_url, calls_world.gateway.url)
        page = await bob_globex.wait_authorized(str(page.url))
        emails = {m.email for m in members_of(page.text)}
        assert {"erin@globex.test", "bob@acme.test"} <= emails
        # Back in Acme: still no prompt, his Acme token is kept beside the Globex one.
        page = await bob.open(await bob.run_call(GENERAL))
        assert 'id="authorize"' not in page.text
    grants = (await calls_world.state())["grants"]
    assert {"team_id": ACME, "user_id": BOB} in grants
    assert {"team_id": GLOBEX, "user_id": BOB_AT_GLOBEX} in grants
    # Each workspace's members were read with a user token of that workspace: two tokens.
    acme = {
        c.authorization
        for c in calls_world.emulator.calls_to("conversations.members")
        if c.args.get("channel") == GENERAL
    }
    globex = {
        c.authorization
        for c in calls_world.emulator.calls_to("conversations.members")
        if c.args.get("channel") == "C0GLBX0GEN"
    }
    assert acme and globex and not acme & globex
    assert all(t.startswith("Bearer xoxp-") for t in acme | globex)


async def test_a_revoked_token_asks_again(calls_world: CallsWorld) -> None:
    # alice revokes her own user token in Slack: slackbridge hears tokens_revoked and deletes it.
    inst = next(i for i in calls_world.emulator.state.installations.values() if i.team_id == ACME)
    token = inst.user_tokens[ALICE]
    revoked = await calls_world.http.post(
        calls_world.emulator.api_url + "auth.revoke", data={"token": token}
    )
    assert revoked.json()["ok"] is True
    async with browser() as b:
        alice = calls_world.person(b, ACME, ALICE)

        async def asked() -> bool | None:
            page = await alice.open(await alice.run_call(GENERAL))
            return True if 'id="authorize"' in page.text else None

        # The service still remembers her grant; the page finds the token gone and asks.
        await wait_until(asked, "the page to ask alice again")
    assert {"team_id": ACME, "user_id": ALICE} not in (await calls_world.state())["grants"]
