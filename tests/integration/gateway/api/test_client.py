"""The Python client against a real gateway and the emulator: every resource, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from slackbridge.client import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Slackbridge,
    SlackbridgeError,
    UnavailableError,
)
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    API_KEY,
    BOB,
    GENERAL,
    SUPPORT,
    ApiStack,
)


@pytest.fixture
async def sb(stack: ApiStack) -> AsyncIterator[Slackbridge]:
    async with Slackbridge(stack.gateway.url, API_KEY) as client:
        yield client


def _channel(stack: ApiStack, channel_id: str) -> Any:
    return stack.emulator.state.workspaces[ACME].channels[channel_id]


async def _slash_command(stack: ApiStack, text: str) -> dict[str, Any]:
    """Alice runs /bridge in #support; returns the command.invoked webhook's data."""
    async with httpx.AsyncClient(base_url=stack.emulator.url) as control:
        answer = await control.post(
            "/_emulator/commands",
            json={
                "team_id": ACME,
                "user_id": ALICE,
                "channel_id": SUPPORT,
                "command": "/bridge",
                "text": text,
            },
        )
    assert answer.status_code == 200, answer.text

    def arrived(p: Any) -> bool:
        return any(e["data"].get("text") == text for e in p.of_type("command.invoked"))

    await stack.product.wait_for(arrived)
    (event,) = [e for e in stack.product.of_type("command.invoked") if e["data"]["text"] == text]
    data: dict[str, Any] = event["data"]
    return data


async def test_messages_thread_edit_and_permalink(stack: ApiStack, sb: Slackbridge) -> None:
    root = await sb.messages.post(ACME, SUPPORT, "Ticket #12 opened", idempotency_key="t12")
    reply = await sb.messages.post(ACME, SUPPORT, "First answer", reply_to=root.id)
    await sb.messages.update(root.id, text="Ticket #12 (answered)")
    sent_root = await sb.messages.wait(root.id)
    sent_reply = await sb.messages.wait(reply.id)
    assert sent_root.status == sent_reply.status == "sent"
    assert sent_reply.thread_ts == sent_root.ts
    link = await sb.messages.permalink(root.id)
    assert sent_root.ts is not None and link.ts == sent_root.ts
    again = await sb.messages.post(ACME, SUPPORT, "Ticket #12 opened", idempotency_key="t12")
    assert again.id == root.id and again.replayed
    with pytest.raises(ConflictError) as conflict:
        await sb.messages.post(ACME, SUPPORT, "something else", idempotency_key="t12")
    assert conflict.value.code == "idempotency_conflict"
    gone = await sb.messages.delete(reply.id)
    assert (await sb.messages.wait(gone.id)).status == "sent"
    assert sent_reply.ts not in _channel(stack, SUPPORT).by_ts
    shown = await sb.messages.ephemeral(ACME, SUPPORT, BOB, "only for bob")
    assert (await sb.messages.wait(shown.id)).status == "sent"


async def test_file_upload_into_a_thread(stack: ApiStack, sb: Slackbridge) -> None:
    root = await sb.messages.post(ACME, SUPPORT, "logs attached below")
    upload = await sb.files.upload(
        ACME,
        b"line 1\nline 2\n",
        "app.log",
        channel=SUPPORT,
        reply_to=root.id,
        title="Application log",
        initial_comment="here you go",
    )
    assert upload.operation == "files.upload"
    done = await sb.messages.wait(upload.id)
    assert done.status == "sent", done
    file_id = done.result["file_id"]
    stored = stack.emulator.state.files[file_id]
    assert stored.content == b"line 1\nline 2\n"
    assert stored.title == "Application log"
    root_ts = (await sb.messages.get(root.id)).ts
    (share,) = [m for m in _channel(stack, SUPPORT).messages if file_id in m.files]
    assert share.thread_ts == root_ts
    assert share.text == "here you go"


async def test_multipart_upload(stack: ApiStack) -> None:
    answer = await stack.api.post(
        "/files",
        data={"workspace": ACME, "channel": SUPPORT, "title": "notes"},
        files={"file": ("notes.txt", b"hello file", "text/plain")},
    )
    assert answer.status_code == 202, answer.text
    done = await stack.wait_status(answer.json()["id"])
    assert done["status"] == "sent", done
    assert stack.emulator.state.files[done["result"]["file_id"]].content == b"hello file"


async def test_views_open_update_push_and_publish(stack: ApiStack, sb: Slackbridge) -> None:
    command = await _slash_command(stack, "new ticket")
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "New ticket"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Describe it"}}],
    }
    opened = await sb.views.open(ACME, command["trigger_id"], modal)
    assert opened["id"].startswith("V")
    updated = await sb.views.update(
        ACME, {**modal, "title": {"type": "plain_text", "text": "Ticket"}}, view_id=opened["id"]
    )
    assert (await sb.messages.wait(updated.id)).status == "sent"
    assert stack.emulator.state.views[opened["id"]].view["title"]["text"] == "Ticket"
    with pytest.raises(InvalidRequestError) as used:
        await sb.views.push(ACME, command["trigger_id"], modal)  # a trigger works once
    assert used.value.code == "slack_error"
    assert used.value.details[0]["slack_error"] == "exchanged_trigger_id"
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    published = await sb.views.publish(ACME, ALICE, home)
    assert (await sb.messages.wait(published.id)).status == "sent"


async def test_views_push_onto_an_open_modal(stack: ApiStack, sb: Slackbridge) -> None:
    command = await _slash_command(stack, "push a step")
    first = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Step 1"},
        "blocks": [
            {
                "type": "actions",
                "block_id": "nav",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "next",
                        "text": {"type": "plain_text", "text": "Next"},
                    }
                ],
            }
        ],
    }
    opened = await sb.views.open(ACME, command["trigger_id"], first)
    async with httpx.AsyncClient(base_url=stack.emulator.url) as control:
        click = await control.post(
            "/_emulator/actions",
            json={"team_id": ACME, "user_id": ALICE, "view_id": opened["id"], "action_id": "next"},
        )
    assert click.status_code == 200, click.text
    second = {**first, "title": {"type": "plain_text", "text": "Step 2"}, "blocks": []}
    pushed = await sb.views.push(ACME, click.json()["trigger_id"], second)
    assert pushed["id"] != opened["id"]
    top = stack.emulator.state.views[pushed["id"]]
    assert top.previous_view_id == opened["id"] and top.view["title"]["text"] == "Step 2"


async def test_response_url_answer(stack: ApiStack, sb: Slackbridge) -> None:
    command = await _slash_command(stack, "status please")
    sent = await sb.responses.send(
        ACME, command["response_url"], "All systems go", response_type="in_channel"
    )
    assert (await sb.messages.wait(sent.id)).status == "sent"
    assert "All systems go" in [m.text for m in _channel(stack, SUPPORT).messages]
    with pytest.raises(SlackbridgeError) as forbidden:
        await sb.responses.send(ACME, "https://example.com/hook", "x")
    assert (forbidden.value.status, forbidden.value.code) == (403, "response_url_forbidden")


async def test_users_are_looked_up_and_cached(stack: ApiStack, sb: Slackbridge) -> None:
    alice = await sb.users.info(ACME, ALICE)
    assert (alice.id, alice.name, alice.email) == (ALICE, "alice", "alice@acme.test")
    calls = len(stack.emulator.calls_to("users.info"))
    assert (await sb.users.info(ACME, ALICE)).real_name == "Alice Archer"
    assert len(stack.emulator.calls_to("users.info")) == calls  # served from the cache
    await sb.users.info(ACME, ALICE, refresh=True)
    assert len(stack.emulator.calls_to("users.info")) == calls + 1
    bob = await sb.users.lookup_by_email(ACME, "bob@acme.test")
    assert bob.id == BOB
    lookups = len(stack.emulator.calls_to("users.lookupByEmail"))
    assert (await sb.users.lookup_by_email(ACME, "bob@acme.test")).id == BOB
    assert (await sb.users.info(ACME, BOB)).email == "bob@acme.test"  # cached by the lookup
    assert len(stack.emulator.calls_to("users.lookupByEmail")) == lookups
    assert len(stack.emulator.calls_to("users.info")) == calls + 1
    # Slack keeps the time zone on the user, not in its profile: kept with the profile.
    assert (await sb.users.info(ACME, "U0ACME0003")).profile["tz"] == "Europe/London"
    with pytest.raises(NotFoundError) as missing:
        await sb.users.lookup_by_email(ACME, "nobody@acme.test")
    assert missing.value.code == "user_not_found"
    with pytest.raises(NotFoundError):
        await sb.users.info(ACME, "U0NOBODY00")


async def test_pass_through_calls_any_method(stack: ApiStack, sb: Slackbridge) -> None:
    info = await sb.slack.call(ACME, "conversations.info", {"channel": GENERAL})
    assert info["ok"] is True and info["channel"]["id"] == GENERAL
    refused = await sb.slack.call(ACME, "conversations.info", {"channel": "C0MISSING0"})
    assert refused == {**refused, "ok": False, "error": "channel_not_found"}
    raw = {"channel": SUPPORT, "text": "raw", "unfurl_links": False}
    outside = await sb.slack.call(ACME, "chat.postMessage", raw)
    assert (outside["ok"], outside["error"]) == (False, "not_in_channel")  # as Slack said it
    assert (await sb.slack.call(ACME, "conversations.join", {"channel": SUPPORT}))["ok"]
    posted = await sb.slack.call(ACME, "chat.postMessage", raw)
    assert posted["ok"] is True, posted
    assert _channel(stack, SUPPORT).by_ts[posted["ts"]].text == "raw"
    with pytest.raises(SlackbridgeError) as forbidden:
        await sb.slack.call(ACME, "auth.revoke")
    assert (forbidden.value.status, forbidden.value.code) == (403, "method_forbidden")


async def test_workspaces_and_install_links(stack: ApiStack, sb: Slackbridge) -> None:
    (acme,) = await sb.workspaces.list()
    assert (acme.team_id, acme.team_name, acme.status) == (ACME, "Acme", "active")
    assert acme.installer_user_id == ALICE
    assert "chat:write" in acme.scopes
    assert (await sb.workspaces.get(ACME)).bot_user_id == acme.bot_user_id
    assert await sb.workspaces.list(status="removed") == []
    url = await sb.workspaces.install_url("account-7")
    assert url.startswith(stack.gateway.url + "/slack/install?ref=account-7&expires=")
    assert "&sig=" in url
    link = await sb.workspaces.install_link("account-7", team=ACME, ttl_seconds=600)
    assert link.expires_at is not None
    assert "team=" + ACME in link.url
    plain = await sb.workspaces.install_link()
    assert (plain.url, plain.expires_at) == (stack.gateway.url + "/slack/install", None)
    with pytest.raises(NotFoundError) as unknown_app:
        await sb.workspaces.install_url(app="nope")
    assert unknown_app.value.code == "app_not_found"
    with pytest.raises(NotFoundError):
        await sb.workspaces.get("T0NOSUCH00")
    (removed,) = await sb.workspaces.remove(ACME)
    assert removed.status == "removed"
    await stack.product.wait_for(lambda p: bool(p.of_type("workspace.uninstalled")))
    with pytest.raises(UnavailableError) as gone:
        await sb.messages.post(ACME, SUPPORT, "after removal")
    assert (gone.value.status, gone.value.code) == (503, "workspace_removed")


async def test_a_bad_key_raises_authentication_error(stack: ApiStack) -> None:
    async with Slackbridge(stack.gateway.url, "sbk_wrong") as wrong:
        with pytest.raises(AuthenticationError) as denied:
            await wrong.workspaces.list()
    assert denied.value.code == "invalid_api_key"
