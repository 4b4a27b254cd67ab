"""What an agent sends the Helpdesk's API: checked before anything reaches Slack.

Bodies are JSON objects; a reply's or a ticket's text is 1 to 4,000 characters (kept stripped);
files come as ``[{"filename", "content_base64"}]``, at most five. Each check answers either the
value or the 400 :func:`~slackbridge.demo.product_common.error` to send back instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from slackbridge.demo.product_common import error, json_object

__all__ = ["MAX_TEXT", "files_of", "json_body", "text_of"]

#: The longest reply or ticket text, in characters.
MAX_TEXT = 4000
_MAX_FILES = 5


async def json_body(request: Request) -> Mapping[str, Any] | Response:
    """The request's JSON object, or the 400 answer."""
    payload = await json_object(request)
    return error(400, "invalid_body", "send a JSON object") if payload is None else payload


def text_of(raw: object) -> str | Response:
    """A reply's or a ticket's text, stripped, or the 400 answer."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_TEXT:
        return error(400, "invalid_text", f"text: 1 to {MAX_TEXT} characters")
    return raw.strip()


def files_of(raw: object) -> list[tuple[str, bytes]] | Response:
    """``[{"filename", "content_base64"}]`` from the page, as the client's (name, bytes)."""
    if raw is None:
        return []
    bad = error(400, "invalid_files", 'files: [{"filename": str, "content_base64": str}]')
    if not isinstance(raw, list) or len(raw) > _MAX_FILES:
        return bad
    found: list[tuple[str, bytes]] = []
    for item in raw:
        if not isinstance(item, Mapping):
            return bad
        name, content = item.get("filename"), item.get("content_base64")
        if not isinstance(name, str) or not name or not isinstance(content, str):
            return bad
        try:
            found.append((name, base64.b64decode(content, validate=True)))
        except (binascii.Error, ValueError):
            return bad
    return found
