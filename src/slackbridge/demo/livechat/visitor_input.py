"""What a visitor sends the live chat: text and files, checked before anything reaches Slack.

``{"text": "...", "files": [{"filename", "content_base64"}]}``: the text at most 4,000
characters, each file at most 5 MB, and at least one of them. A body that breaks a rule raises
:class:`InvalidInput` with the error code and message the page shows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

__all__ = ["InvalidInput", "visitor_content"]

_MAX_TEXT = 4000
_MAX_FILE = 5 * 1024 * 1024


class InvalidInput(Exception):
    """A visitor's message the live chat refuses: ``code`` and ``message`` for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _files_of(payload: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    raw = payload.get("files") or []
    if not isinstance(raw, list):
        raise InvalidInput("invalid_files", 'files: [{"filename", "content_base64"}]')
    out = []
    for f in raw:
        name = f.get("filename") if isinstance(f, Mapping) else None
        data = f.get("content_base64") if isinstance(f, Mapping) else None
        if not isinstance(name, str) or not name.strip() or not isinstance(data, str):
            raise InvalidInput("invalid_files", 'files: [{"filename", "content_base64"}]')
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("invalid_files", f"{name}: not base64") from None
        if len(content) > _MAX_FILE:
            raise InvalidInput("file_too_large", f"{name}: at most {_MAX_FILE // 1024 // 1024} MB")
        out.append((name.strip()[:200], content))
    return out


def visitor_content(payload: Mapping[str, Any] | None) -> tuple[str, list[tuple[str, bytes]]]:
    """The text (stripped) and the files (name, bytes) of a visitor's message."""
    if payload is None:
        raise InvalidInput("invalid_body", 'send JSON: {"text": "...", "files": [...]}')
    text = payload.get("text") or ""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise InvalidInput("invalid_text", f"text: at most {_MAX_TEXT} characters")
    files = _files_of(payload)
    if not text.strip() and not files:
        raise InvalidInput("empty", "write something or attach a file")
    return text.strip(), files
