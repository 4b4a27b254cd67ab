"""Outbox operations that are more than one Web API call: file uploads and response_url posts.

A file upload is Slack's three-step flow: ``files.getUploadURLExternal`` (an upload URL and a
file id), the bytes POSTed to that URL, then ``files.completeUploadExternal`` (which shares the
file into the channel or thread). The row's ``result`` records the stage reached (``uploading``
with the file id and URL, then ``completing``) before each step, so a retry resumes; a retry that
finds the row ``completing`` first asks ``files.info`` whether the file is already shared there.

``response_url`` posts (answers to slash commands and interactions) are plain HTTPS POSTs; Slack
answers ``ok`` or an error word as text. They are not idempotent: a post whose answer was lost
may be repeated.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.slack.outbound.outbox_ops import (
    Attempt,
    Operation,
    channel_of,
    join_and_retry,
    thread_of,
)
from slackbridge.slack.outbound.outcomes import Outcome
from slackbridge.slack.outbound.web_api import CALL_TIMEOUT
from slackbridge.store.repositories.outbox_progress import OutboxProgressRepository

__all__ = ["FILE_OPERATIONS", "respond", "upload_file"]

_log = logging.getLogger("slackbridge.sender")
_ERROR_WORD = frozenset("abcdefghijklmnopqrstuvwxyz_")


async def _http_post(
    attempt: Attempt, url: str, *, data: bytes | None = None, json: Any = None
) -> tuple[int, str, Mapping[str, str]] | Outcome:
    """POST to a non-API URL: (status, text body, headers), or a transient Outcome."""
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    shared = attempt.outbound.session
    session = shared if shared is not None and not shared.closed else None
    own = aiohttp.ClientSession(timeout=timeout) if session is None else None
    attempt.touched = True
    try:
        async with (session or own).post(url, data=data, json=json, timeout=timeout) as answer:  # type: ignore[union-attr]
            return answer.status, await answer.text(), dict(answer.headers)
    except aiohttp.ClientConnectorError:
        return Outcome("retry", code="connection_error")
    except (TimeoutError, aiohttp.ClientError, OSError):
        return Outcome("retry", code="connection_error", sent=True)
    finally:
        if own is not None:
            await own.close()


def _text_outcome(status: int, body: str, headers: Mapping[str, str]) -> Outcome:
    if 200 <= status < 300:
        return Outcome.ok({"status": status})
    if status == 429:
        try:
            wait = max(1.0, float(headers.get("Retry-After", "1")))
        except ValueError:
            wait = 1.0
        return Outcome("ratelimited", code="ratelimited", retry_after=wait)
    if status >= 500:
        return Outcome("retry", code="http_error", sent=True)
    word = body.strip()
    code = word if word and set(word) <= _ERROR_WORD and len(word) <= 64 else f"http_{status}"
    return Outcome.failed(code, {"status": status})


async def respond(attempt: Attempt, _client: AsyncWebClient) -> Outcome:
    """POST the message to the command's or action's ``response_url``."""
    url = str(attempt.payload["response_url"])
    answer = await _http_post(attempt, url, json=attempt.args())
    if isinstance(answer, Outcome):
        return answer
    return _text_outcome(*answer)


def _shared_ts(file: Mapping[str, Any], channel: str | None) -> tuple[bool, str | None]:
    """Whether ``file`` is shared into ``channel`` (any share when None), and the share's ts."""
    if channel is None:
        return True, None
    shares = file.get("shares") or {}
    for kind in ("public", "private"):
        entries = (shares.get(kind) or {}).get(channel)
        if entries:
            first = entries[-1] if isinstance(entries, list) else None
            return True, first.get("ts") if isinstance(first, Mapping) else None
    return channel in (file.get("channels") or []) + (file.get("groups") or []) + (
        file.get("ims") or []
    ), None


async def _save(attempt: Attempt, progress: dict[str, Any]) -> None:
    repo = OutboxProgressRepository(attempt.gateway.db, attempt.gateway.keyring)
    await repo.save(attempt.row.id, attempt.owner, progress)


async def upload_file(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    """Upload the row's file and share it (see the module docstring for the stages)."""
    spec = attempt.payload["file"]
    try:
        # Up to 10 MiB: decoded in a thread, off the event loop.
        content = await asyncio.to_thread(base64.b64decode, spec["content_b64"], validate=True)
    except (binascii.Error, ValueError):
        return Outcome.failed("invalid_file_content")
    channel, failure = await channel_of(attempt)
    if failure is not None:
        return failure
    thread_ts, failure = await thread_of(attempt)
    if failure is not None:
        return failure
    # Where the file goes, for message.delivered: a bridge upload names its thread by ``ref``
    # (the card's post), not in its payload.
    shared_in = {"channel": channel, "thread_ts": thread_ts}
    progress = dict(attempt.row.result or {})
    stage = progress.get("stage")
    if stage == "completing":
        info = await attempt.call(
            client, "files.info", {"file": progress["file_id"]}, changes_slack=False, form=True
        )
        if info.disposition in ("retry", "ratelimited"):
            return info
        if info.disposition == "done":
            shared, ts = _shared_ts(info.data.get("file") or {}, channel)
            if shared:
                return Outcome.ok({**shared_in, "file_id": progress["file_id"], "ts": ts})
        else:
            stage = None  # the file is gone: start over
    if stage not in ("uploading", "completing"):
        args: dict[str, Any] = {"filename": spec["filename"], "length": len(content)}
        if spec.get("alt_text"):
            args["alt_txt"] = spec["alt_text"]
        if spec.get("snippet_type"):
            args["snippet_type"] = spec["snippet_type"]
        got = await attempt.call(
            client, "files.getUploadURLExternal", args, changes_slack=False, form=True
        )
        if got.disposition != "done":
            return got
        progress = {
            "stage": "uploading",
            "file_id": got.data.get("file_id"),
            "upload_url": got.data.get("upload_url"),
        }
        await _save(attempt, progress)
        stage = "uploading"
    if stage == "uploading":
        sent = await _http_post(attempt, str(progress["upload_url"]), data=content)
        if isinstance(sent, Outcome):
            return sent
        status, body, _headers = sent
        if status >= 500:
            return Outcome("retry", code="http_error")
        if status >= 300:
            # The upload URL expired or was refused: the next attempt starts over.
            await _save(attempt, {"stage": "new"})
            return Outcome("retry", code="upload_failed", data={"status": status, "body": body})
        progress = {**progress, "stage": "completing"}
        await _save(attempt, progress)
    files = [{"id": progress["file_id"], "title": spec.get("title") or spec["filename"]}]
    complete: dict[str, Any] = {"files": files}
    if channel:
        complete["channel_id"] = channel
    if thread_ts:
        complete["thread_ts"] = thread_ts
    if spec.get("initial_comment"):
        complete["initial_comment"] = spec["initial_comment"]

    async def finish() -> Outcome:
        return await attempt.call(client, "files.completeUploadExternal", complete, form=True)

    done = await finish()
    if channel:
        done = await join_and_retry(attempt, client, done, str(channel), finish)
    if done.disposition == "join":
        return Outcome.failed("not_in_channel", done.data)
    if done.disposition != "done":
        return done
    answered = (done.data.get("files") or [{}])[0]
    _, ts = _shared_ts(answered if isinstance(answered, Mapping) else {}, channel)
    return Outcome.ok({**shared_in, "file_id": progress["file_id"], "ts": ts})


#: The operations of this module, by the name stored in the row's ``method``.
FILE_OPERATIONS: dict[str, Operation] = {"files.upload": upload_file, "response_url": respond}
