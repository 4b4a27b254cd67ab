"""Noise is not news: which Slack message changes are worth telling the product. Pure.

Slack sends ``message_changed`` for much more than a person's edit: link unfurls and attachment
previews, metadata updates, a thread parent's reply count, a parent deleted while it still has
replies (its ``tombstone``). Only a change of what a person reads counts as an edit: the text, the
blocks or the files. :func:`content_digest` condenses exactly that, so the same test works with
the previous message Slack sent and with the digest the store kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = [
    "content_digest",
    "file_ids",
    "is_broadcast",
    "is_edit",
    "is_tombstone",
]


def file_ids(message: Mapping[str, Any]) -> list[str]:
    """The ids of the files a message shares, in order."""
    return [str(f["id"]) for f in message.get("files") or [] if isinstance(f, dict) and f.get("id")]


def content_digest(message: Mapping[str, Any]) -> str:
    """A digest of what a person reads in ``message``: text, blocks and file ids (nothing else:
    attachments, unfurls, metadata, reply counts and reactions leave it unchanged)."""
    content = {
        "text": message.get("text") or "",
        "blocks": message.get("blocks") or [],
        "files": file_ids(message),
    }
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_tombstone(message: Mapping[str, Any]) -> bool:
    """True for what stays of a thread parent deleted while it had replies."""
    return message.get("subtype") == "tombstone"


def is_broadcast(message: Mapping[str, Any]) -> bool:
    """True for a thread reply also shown in the channel ("Also send to #channel")."""
    return message.get("subtype") == "thread_broadcast"


def is_edit(
    message: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    *,
    known_digest: str | None = None,
) -> bool:
    """True when ``message`` (Slack's ``message_changed.message``) differs from what was there
    before in text, blocks or files. ``previous`` is Slack's ``previous_message``; when it is
    missing, ``known_digest`` (what the store last saw) stands in for it; with neither, an
    ``edited`` stamp is the only evidence left."""
    if is_tombstone(message):
        return False
    if previous:
        return content_digest(message) != content_digest(previous)
    if known_digest is not None:
        return content_digest(message) != known_digest
    return bool(message.get("edited"))
