"""The typed client's bridge methods end to end: a still conversation with a linked author and a
file, edits, reactions, deletion, close and reopen; user links; watched channels."""

from __future__ import annotations

import pytest

from slackbridge.client import ConflictError, NotFoundError, Slackbridge
from tests.integration.gateway.api.conftest import ACME, API_KEY, BOB, SUPPORT, ApiStack


async def test_client_drives_a_conversation(stack: ApiStack) -> None:
    async with Slackbridge(stack.gateway.url, API_KEY) as sb:
        created = await sb.conversations.put(
            "ticket 9?", workspace=ACME, channel=SUPPORT, card={"text": "Ticket 9"}, title="Nine"
        )
        assert created.state == "creating" and created.title == "Nine"
        conversation = await sb.conversations.wait_open("ticket 9?")
        assert conversation.state == "open" and conversation.thread_ts

        link = await sb.user_links.put("p-bob", workspace=ACME, email="bob@acme.test")
        assert link.product_user == "p-bob" and link.slack_user is None
        posted = await sb.conversations.post(
            "ticket 9?",
            id="m#1",
            author={"email": "bob@acme.test"},
            text="Attached the log",
            files=[("printer.log", b"paper jam\n")],
        )
        assert posted.state == "queued"
        sent = await sb.conversations.wait_message("ticket 9?", "m#1")
        assert sent.state == "sent" and sent.ts, sent
        channel = stack.emulator.state.workspaces[ACME].channels[SUPPORT]
        assert channel.by_ts[sent.ts].username == "Bob Baker"  # his Slack name, by lookupByEmail
        shared = [m for m in channel.messages if m.files and m.thread_ts == conversation.thread_ts]
        assert len(shared) == 1
        assert (await sb.user_links.get("p-bob", workspace=ACME)).slack_user == BOB
        # Bob's email is known now: posting as him again asks Slack nothing.
        await sb.conversations.post(
            "ticket 9?", id="m#0", author={"email": "bob@acme.test"}, text="again"
        )
        assert len(stack.emulator.calls_to("users.lookupByEmail")) == 1

        await sb.conversations.edit("ticket 9?", "m#1", text="Attached the full log")
        reacted = await sb.conversations.react("ticket 9?", "m#1", "eyes")
        assert reacted.operation_id is not None
        await sb.messages.wait(reacted.operation_id)
        assert channel.by_ts[sent.ts].text == "Attached the full log"
        unreacted = await sb.conversations.unreact("ticket 9?", "m#1", "eyes")
        assert unreacted.operation_id is not None
        await sb.messages.wait(unreacted.operation_id)
        deleted = await sb.conversations.delete_message("ticket 9?", "m#1")
        assert deleted.deleted

        closed = await sb.conversations.close("ticket 9?", message="Done here")
        assert closed.state == "closed"
        with pytest.raises(ConflictError) as refused:
            await sb.conversations.post("ticket 9?", id="m#2", author={"slack_user": BOB}, text="x")
        assert refused.value.code == "conversation_closed"
        assert (await sb.conversations.reopen("ticket 9?")).state == "open"
        page = await sb.conversations.list(workspace=ACME, limit=1)
        assert [c.key for c in page.conversations] == ["ticket 9?"] and page.next_cursor is None
        with pytest.raises(NotFoundError):
            await sb.conversations.get("nope")

        watched = await sb.watched_channels.put(
            SUPPORT, workspace=ACME, open_on="reaction", reaction="ticket"
        )
        assert (watched.open_on, watched.reaction) == ("reaction", "ticket")
        assert [w.channel for w in await sb.watched_channels.list(workspace=ACME)] == [SUPPORT]
        await sb.watched_channels.remove(SUPPORT, workspace=ACME)
        assert await sb.watched_channels.list() == []
