"""``files.getUploadURLExternal``, ``files.completeUploadExternal``, ``files.info``,
``files.list``, ``files.delete``.

Uploading is Slack's three steps: ask for an upload URL, POST the bytes to it (see
``file_routes.py``), then complete the upload, which shares the files into a conversation as a
``file_share`` message (or keeps them private when no channel is given).
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.blocks import is_block_list
from slackbridge.emulator.state import File, User
from slackbridge.emulator.webapi.args import as_int, as_json, as_list, invalid_args, valid_ts
from slackbridge.emulator.webapi.chat import MAX_TEXT
from slackbridge.emulator.webapi.common import caller, can_see, resolve_channel, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__ = ["can_read_file"]

_MAX_FILES = 10


@method("files.getUploadURLExternal", tier=4, scopes=("files:write",))
async def files_get_upload_url(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    filename = ctx.arg("filename")
    if not filename:
        raise invalid_args("missing required field: filename")
    length = as_int(ctx.arg("length"), "length", -1)
    if length < 0:
        raise invalid_args("missing required field: length")
    file = ops.create_file(
        ctx.state,
        workspace(ctx).id,
        me.id,
        name=str(filename),
        alt_txt=str(ctx.arg("alt_txt") or ""),
    )
    upload_url = f"{ops.base_url(ctx.state)}/upload/v1/{file.id}/{file.upload_ticket}"
    return {"upload_url": upload_url, "file_id": file.id}


def _files_arg(ctx: CallContext, me: User) -> list[File]:
    raw = as_json(ctx.arg("files"), error="invalid_arguments")
    if raw is None:
        raise invalid_args("missing required field: files")
    if not isinstance(raw, list) or not raw or len(raw) > _MAX_FILES:
        raise invalid_args(f"files must be a list of 1 to {_MAX_FILES} objects")
    found = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise invalid_args("each file needs an id")
        file = ctx.state.files.get(entry["id"])
        if file is None or file.team_id != me.team_id or file.user != me.id:
            raise SlackError("file_not_found")
        if not file.completed:
            # The bytes were never uploaded to the upload URL.
            raise SlackError("file_not_found")
        title = entry.get("title")
        if isinstance(title, str) and title:
            file.title = title
        found.append(file)
    return found


@method("files.completeUploadExternal", tier=4, scopes=("files:write",))
async def files_complete_upload(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    files = _files_arg(ctx, me)
    channel_refs = as_list(ctx.arg("channel_id")) or as_list(ctx.arg("channels"))
    thread_ts = ctx.arg("thread_ts")
    if thread_ts is not None and not valid_ts(str(thread_ts)):
        raise SlackError("invalid_thread_ts")
    comment = str(ctx.arg("initial_comment") or "")
    if len(comment) > MAX_TEXT:
        raise SlackError("msg_too_long")
    blocks = as_json(ctx.arg("blocks"), error="invalid_blocks_format")
    if blocks is not None and not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if blocks is not None and not is_block_list(blocks):
        raise SlackError("invalid_blocks")
    channels = [resolve_channel(ctx, ref) for ref in channel_refs]
    for channel in channels:
        if channel.is_archived:
            raise SlackError("is_archived")
        if me.id not in channel.members:
            raise SlackError("not_in_channel")
    for channel in channels:
        ops.share_files(
            ctx.state,
            files,
            channel,
            me,
            thread_ts=str(thread_ts) if thread_ts else None,
            initial_comment=comment,
            blocks=blocks,
        )
    for file in files:
        file.upload_ticket = None
    return {"files": [ops.file_json(ctx.state, f) for f in files]}


def can_read_file(file: File, user: User, channels_visible: list[bool]) -> bool:
    """The uploader, or anyone who can see a conversation it was shared into."""
    return file.team_id == user.team_id and (file.user == user.id or any(channels_visible))


@method("files.info", tier=4, scopes=("files:read",))
async def files_info(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    ws = workspace(ctx)
    file = ctx.state.files.get(str(ctx.require("file")))
    if file is None or not file.completed:
        raise SlackError("file_not_found")
    visible = [can_see(ws.channels[c], me) for c in file.channels if c in ws.channels]
    if not can_read_file(file, me, visible):
        raise SlackError("file_not_found")
    return {
        "file": ops.file_json(ctx.state, file),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }


def _visible_files(ctx: CallContext, me: User) -> list[File]:
    ws = workspace(ctx)
    out = []
    for file in ctx.state.files.values():
        if not file.completed or file.team_id != ws.id:
            continue
        visible = [can_see(ws.channels[c], me) for c in file.channels if c in ws.channels]
        if can_read_file(file, me, visible):
            out.append(file)
    return out


@method("files.list", tier=3, scopes=("files:read",))
async def files_list(ctx: CallContext) -> dict[str, Any]:
    """Files the caller can see, newest first, filtered by ``channel``, ``user``, ``types``
    and ``ts_from``/``ts_to``; paged with ``count``/``page`` as Slack does."""
    me = caller(ctx)
    files = _visible_files(ctx, me)
    channel_ref = ctx.arg("channel")
    if channel_ref:
        channel = resolve_channel(ctx, channel_ref)
        files = [f for f in files if channel.id in f.channels]
    if ctx.arg("user"):
        files = [f for f in files if f.user == str(ctx.arg("user"))]
    types = [t for t in as_list(ctx.arg("types")) if t != "all"]
    if types:
        files = [f for f in files if _file_kind(f) in types]
    ts_from = as_int(ctx.arg("ts_from"), "ts_from", 0)
    ts_to = as_int(ctx.arg("ts_to"), "ts_to", 0)
    files = [f for f in files if f.created >= ts_from and (not ts_to or f.created <= ts_to)]
    files.sort(key=lambda f: f.created, reverse=True)
    count = min(max(as_int(ctx.arg("count"), "count", 100), 1), 1000)
    total = len(files)
    pages = max(1, -(-total // count))
    number = min(max(as_int(ctx.arg("page"), "page", 1), 1), pages)
    chunk = files[(number - 1) * count : number * count]
    return {
        "files": [ops.file_json(ctx.state, f) for f in chunk],
        "paging": {"count": count, "total": total, "page": number, "pages": pages},
    }


def _file_kind(file: File) -> str:
    """The ``types`` filter name of a file (Slack's: images, snippets, pdfs, zips, …)."""
    if file.mimetype.startswith("image/"):
        return "images"
    if file.filetype == "pdf":
        return "pdfs"
    if file.filetype == "zip":
        return "zips"
    if file.filetype in ("text", "txt") or file.mimetype.startswith("text/"):
        return "snippets"
    return "other"


@method("files.delete", tier=3, scopes=("files:write",))
async def files_delete(ctx: CallContext) -> dict[str, Any]:
    """Delete a file: its uploader, or a workspace admin with a user token."""
    me = caller(ctx)
    file = ctx.state.files.get(str(ctx.require("file")))
    if file is None or file.team_id != workspace(ctx).id:
        raise SlackError("file_not_found")
    assert ctx.token is not None
    if file.user != me.id and not (ctx.token.kind == "user" and me.is_admin):
        raise SlackError("cant_delete_file")
    del ctx.state.files[file.id]
    return {}
