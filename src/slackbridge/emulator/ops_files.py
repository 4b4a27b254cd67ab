"""World operations on files: create (with or without content yet) and share into a channel."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from typing import Any

from slackbridge.emulator.ops_common import announce, new_ts
from slackbridge.emulator.ops_messages import post_message
from slackbridge.emulator.state import Channel, EmulatorState, File, Message, User
from slackbridge.emulator.webapi.registry import SlackError

__all__ = ["create_file", "filetype_for", "share_files"]

# Slack's ``filetype`` for common extensions; anything else is the extension itself.
_FILETYPES = {
    "txt": "text",
    "md": "markdown",
    "py": "python",
    "js": "javascript",
    "jpg": "jpg",
    "jpeg": "jpg",
    "yml": "yaml",
    "": "binary",
}


def filetype_for(name: str) -> str:
    ext = name.rsplit(".", 1)[1].lower() if "." in name else ""
    return _FILETYPES.get(ext, ext)


def create_file(
    state: EmulatorState,
    team_id: str,
    user_id: str,
    *,
    name: str,
    title: str | None = None,
    content: bytes | None = None,
    alt_txt: str = "",
    mimetype: str | None = None,
) -> File:
    """A file owned by ``user_id``. ``content=None`` leaves it waiting for an upload."""
    file = File(
        id=state.ids.next("F"),
        team_id=team_id,
        user=user_id,
        name=name,
        title=title or name,
        mimetype=mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream",
        filetype=filetype_for(name),
        content=content or b"",
        created=int(state.now()),
        alt_txt=alt_txt,
        completed=content is not None,
    )
    if content is None:
        file.upload_ticket = state.ids.secret(12)
    state.files[file.id] = file
    return file


def share_files(
    state: EmulatorState,
    files: Sequence[File],
    channel: Channel,
    author: User,
    *,
    thread_ts: str | None = None,
    initial_comment: str = "",
    blocks: list[dict[str, Any]] | None = None,
) -> Message:
    """Post a ``file_share`` message carrying ``files`` and record where they were shared."""
    for file in files:
        if not file.completed:
            raise SlackError("file_not_found")
    for file in files:
        if channel.id not in file.channels:
            file.channels.append(channel.id)
    msg = post_message(
        state,
        channel,
        author,
        text=initial_comment,
        blocks=blocks,
        thread_ts=thread_ts,
        file_ids=[f.id for f in files],
    )
    for file in files:
        file.shares.setdefault(channel.id, []).append(msg.ts)
        # Slack also sends file_shared (files:read) for each file, after the message.
        announce(
            state,
            "file_shared",
            channel,
            {"file_id": file.id, "user_id": author.id, "event_ts": new_ts(state)},
        )
    return msg
