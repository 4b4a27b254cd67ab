"""views.* (trigger ids, stacks, hashes, App Home) and the external file upload flow."""

from __future__ import annotations

import httpx
import orjson
import pytest

from slackbridge.emulator import ops
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, GLOBEX, SUPPORT, call

MODAL = {
    "type": "modal",
    "callback_id": "ticket",
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "subject",
            "label": {"type": "plain_text", "text": "Subject"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def _view(**changes: object) -> str:
    return orjson.dumps({**MODAL, **changes}).decode()


async def test_open_push_update_with_trigger(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    trigger = ops.new_trigger(state, ACME, ALICE, bot.app.id)
    opened = await call(
        client, "views.open", bot.bot_token, trigger_id=trigger.trigger_id, view=_view()
    )
    view = opened["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "ticket"
    assert view["state"] == {"values": {}} and view["app_id"] == bot.app.id
    assert view["root_view_id"] == view["id"] and view["bot_id"] == bot.bot_id
    reused = await call(
        client, "views.open", bot.bot_token, trigger_id=trigger.trigger_id, view=_view()
    )
    assert reused["error"] == "exchanged_trigger_id"

    push_trigger = ops.new_trigger(state, ACME, ALICE, bot.app.id)
    pushed = await call(
        client,
        "views.push",
        bot.bot_token,
        trigger_id=push_trigger.trigger_id,
        view=_view(callback_id="step2"),
    )
    assert pushed["view"]["previous_view_id"] == view["id"]
    assert pushed["view"]["root_view_id"] == view["id"]

    stale = await call(
        client, "views.update", bot.bot_token, view_id=view["id"], hash="1.stale", view=_view()
    )
    assert stale["error"] == "hash_conflict"
    updated = await call(
        client,
        "views.update",
        bot.bot_token,
        view_id=view["id"],
        hash=view["hash"],
        view=_view(title={"type": "plain_text", "text": "Edited"}),
    )
    assert updated["view"]["title"]["text"] == "Edited"
    assert updated["view"]["hash"] != view["hash"]
    unknown = await call(client, "views.update", bot.bot_token, view_id="V0NOPE", view=_view())
    assert unknown["error"] == "not_found"


async def test_trigger_errors(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    unknown = await call(
        client, "views.open", bot.bot_token, trigger_id="123.456.abc", view=_view()
    )
    assert unknown["error"] == "invalid_trigger_id"
    expired = ops.new_trigger(state, ACME, ALICE, bot.app.id)
    expired.expires_at = state.now() - 0.1
    body = await call(
        client, "views.open", bot.bot_token, trigger_id=expired.trigger_id, view=_view()
    )
    assert body["error"] == "expired_trigger_id"
    other_app = install_app_for_tests(state, ACME)
    foreign = ops.new_trigger(state, ACME, ALICE, other_app.app.id)
    body = await call(
        client, "views.open", bot.bot_token, trigger_id=foreign.trigger_id, view=_view()
    )
    assert body["error"] == "invalid_trigger_id"
    fresh = ops.new_trigger(state, ACME, ALICE, bot.app.id)
    no_view = await call(client, "views.open", bot.bot_token, trigger_id=fresh.trigger_id)
    assert no_view["error"] == "invalid_arguments"


def test_trigger_lifetime_scales_with_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    from slackbridge.emulator.seed import build_state

    fast = build_state(speed=10)
    monkeypatch.setattr(fast, "now", lambda: 1_000.0)  # the clock stands still
    trigger = ops.new_trigger(fast, ACME, ALICE, "A1")
    assert trigger.expires_at == pytest.approx(1_000.3)


async def test_update_by_external_id_and_publish_home(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    trigger = ops.new_trigger(state, ACME, ALICE, bot.app.id)
    await call(
        client,
        "views.open",
        bot.bot_token,
        trigger_id=trigger.trigger_id,
        view=_view(external_id="ticket-42"),
    )
    updated = await call(
        client,
        "views.update",
        bot.bot_token,
        external_id="ticket-42",
        view=_view(external_id="ticket-42", private_metadata="v2"),
    )
    assert updated["view"]["private_metadata"] == "v2"
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    published = await call(
        client, "views.publish", bot.bot_token, user_id=ALICE, view=orjson.dumps(home).decode()
    )
    assert published["view"]["type"] == "home"
    again = await call(
        client, "views.publish", bot.bot_token, user_id=ALICE, view=orjson.dumps(home).decode()
    )
    assert again["view"]["id"] == published["view"]["id"]
    wrong_type = await call(client, "views.publish", bot.bot_token, user_id=ALICE, view=_view())
    assert wrong_type["error"] == "invalid_arguments"


async def _upload(
    client: httpx.AsyncClient, token: str, name: str, data: bytes
) -> tuple[str, str, httpx.Response]:
    got = await call(client, "files.getUploadURLExternal", token, filename=name, length=len(data))
    assert got["ok"] is True, got
    uploaded = await client.post(got["upload_url"], content=data)
    return got["file_id"], got["upload_url"], uploaded


async def test_external_upload_flow(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    file_id, url, uploaded = await _upload(client, bot.bot_token, "notes.txt", b"hello file")
    assert uploaded.status_code == 200 and uploaded.text == "OK - 10"
    done = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": file_id, "title": "Notes"}]).decode(),
        channel_id=GENERAL,
        initial_comment="see attached",
    )
    assert done["ok"] is True
    file = done["files"][0]
    assert file["id"] == file_id and file["title"] == "Notes" and file["size"] == 10
    assert file["filetype"] == "text" and file["channels"] == [GENERAL]
    shared = state.channel(ACME, GENERAL).messages[-1]  # type: ignore[union-attr]
    assert shared.subtype == "file_share" and shared.files == [file_id]
    assert shared.text == "see attached"

    info = await call(client, "files.info", bot.bot_token, file=file_id)
    assert info["file"]["url_private"] == file["url_private"]

    download = await client.get(file["url_private"], headers=bot.bot_headers)
    assert download.status_code == 200 and download.content == b"hello file"
    attachment = await client.get(file["url_private_download"], headers=bot.bot_headers)
    assert "attachment" in attachment.headers["content-disposition"]
    anonymous = await client.get(file["url_private"])
    assert anonymous.status_code == 302 and "/?redirect=" in anonymous.headers["location"]
    other = install_app_for_tests(state, GLOBEX)
    foreign = await client.get(file["url_private"], headers=other.bot_headers)
    assert foreign.status_code == 403
    # The upload URL is spent once the upload is completed.
    assert (await client.post(url, content=b"x")).status_code == 404


async def test_upload_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    missing = await call(client, "files.getUploadURLExternal", bot.bot_token, filename="a.txt")
    assert missing["error"] == "invalid_arguments"
    got = await call(client, "files.getUploadURLExternal", bot.bot_token, filename="a", length=1)
    not_uploaded = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": got["file_id"]}]).decode(),
    )
    assert not_uploaded["error"] == "file_not_found"
    bad_ticket = await client.post(got["upload_url"] + "x", content=b"y")
    assert bad_ticket.status_code == 404
    file_id, _, _ = await _upload(client, bot.bot_token, "b.txt", b"b")
    not_member = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": file_id}]).decode(),
        channel_id=SUPPORT,
    )
    assert not_member["error"] == "not_in_channel"
    bad_blocks = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": file_id}]).decode(),
        channel_id=GENERAL,
        blocks="[1, 2]",
    )
    assert bad_blocks["error"] == "invalid_blocks"
    unknown = await call(client, "files.info", bot.bot_token, file="F0NOPE0000")
    assert unknown["error"] == "file_not_found"


async def test_private_upload_without_channel(client: httpx.AsyncClient, bot: TestInstall) -> None:
    file_id, _, _ = await _upload(client, bot.bot_token, "c.bin", b"\x00\x01")
    done = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": file_id}]).decode(),
    )
    assert done["files"][0]["channels"] == [] and done["files"][0]["is_public"] is False


async def test_upload_as_multipart(client: httpx.AsyncClient, bot: TestInstall) -> None:
    got = await call(
        client, "files.getUploadURLExternal", bot.bot_token, filename="m.csv", length=3
    )
    uploaded = await client.post(got["upload_url"], files={"file": ("m.csv", b"a,b")})
    assert uploaded.text == "OK - 3"
    done = await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": got["file_id"]}]).decode(),
        channel_id=GENERAL,
    )
    assert done["files"][0]["size"] == 3 and done["files"][0]["mimetype"] == "text/csv"


async def test_files_list_and_delete(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    ids = []
    for name in ("a.txt", "b.png"):
        file_id, _, _ = await _upload(client, bot.bot_token, name, b"data")
        done = await call(
            client,
            "files.completeUploadExternal",
            bot.bot_token,
            files=orjson.dumps([{"id": file_id}]).decode(),
            channel_id=GENERAL,
        )
        assert done["ok"] is True
        ids.append(file_id)
    private_id, _, _ = await _upload(client, bot.bot_token, "mine.txt", b"x")
    await call(
        client,
        "files.completeUploadExternal",
        bot.bot_token,
        files=orjson.dumps([{"id": private_id}]).decode(),
    )
    listed = await call(client, "files.list", bot.bot_token, channel=GENERAL)
    assert sorted(f["id"] for f in listed["files"]) == sorted(ids)
    assert listed["paging"] == {"count": 100, "total": 2, "page": 1, "pages": 1}
    everything = await call(client, "files.list", bot.bot_token, count=2, page=2)
    assert everything["paging"] == {"count": 2, "total": 3, "page": 2, "pages": 2}
    assert len(everything["files"]) == 1
    images = await call(client, "files.list", bot.bot_token, types="images")
    assert [f["name"] for f in images["files"]] == ["b.png"]
    # Another app in the workspace can list what was shared where it can see, not private files.
    other = install_app_for_tests(state, ACME, channels=["general"])
    seen = await call(client, "files.list", other.bot_token)
    assert sorted(f["id"] for f in seen["files"]) == sorted(ids)
    refused = await call(client, "files.delete", other.bot_token, file=ids[0])
    assert refused["error"] == "cant_delete_file"
    assert await call(client, "files.delete", bot.bot_token, file=ids[0]) == {"ok": True}
    assert (await call(client, "files.info", bot.bot_token, file=ids[0]))["error"] == (
        "file_not_found"
    )
    again = await call(client, "files.delete", bot.bot_token, file=ids[0])
    assert again["error"] == "file_not_found"
    after = await call(client, "files.list", bot.bot_token, channel=GENERAL)
    assert [f["id"] for f in after["files"]] == [ids[1]]
