"""Reading Web API arguments the way Slack does: form values are strings, JSON values are typed.

Every reader raises :class:`SlackError` with Slack's own code when a value cannot be read.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson

from slackbridge.emulator.webapi.registry import CallContext, SlackError

__all__ = [
    "as_bool",
    "as_float",
    "as_int",
    "as_json",
    "as_list",
    "decode_cursor",
    "encode_cursor",
    "invalid_args",
    "page",
    "valid_ts",
]

_TS = re.compile(r"^[1-9]\d{0,9}(\.\d{1,6})?$")
T = TypeVar("T")


def invalid_args(message: str) -> SlackError:
    """Slack's ``invalid_arguments`` with the ``[ERROR] …`` message clients print."""
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def as_int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid_args(f"{name} must be a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_args(f"{name} must be a number") from None


def as_float(value: Any, *, error: str = "invalid_arguments") -> float | None:
    """A number such as a ``latest``/``oldest`` bound (None when absent); ``error`` otherwise."""
    if value is None:
        return None
    try:
        return float(str(value))
    except ValueError:
        raise SlackError(error) from None


def as_json(value: Any, *, error: str = "invalid_arguments") -> Any:
    """A JSON argument: a form string holding JSON, or a value already decoded from a JSON body."""
    if value is None or value == "":
        return None
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise SlackError(error) from None
    return value


def as_list(value: Any) -> list[str]:
    """A comma-separated form string or a JSON array, as a list of non-empty strings."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def valid_ts(value: Any) -> bool:
    return isinstance(value, str) and bool(_TS.match(value))


def encode_cursor(kind: str, position: str) -> str:
    """An opaque cursor like Slack's (base64 of ``kind:position``)."""
    return base64.b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    """The position inside a cursor made by :func:`encode_cursor`; ``invalid_cursor`` if not."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackError("invalid_cursor") from None
    prefix, sep, position = text.partition(":")
    if not sep or prefix != kind or not position:
        raise SlackError("invalid_cursor")
    return position


def page(
    ctx: CallContext,
    items: Sequence[T],
    *,
    kind: str,
    default_limit: int,
    max_limit: int = 1000,
) -> tuple[list[T], str]:
    """One page of ``items`` for ``cursor``/``limit``; returns it and the ``next_cursor``
    (empty at the end). A limit of 0 or less means the default."""
    limit = as_int(ctx.arg("limit"), "limit", default_limit)
    if limit <= 0:
        limit = default_limit
    limit = min(limit, max_limit)
    start = 0
    cursor = ctx.arg("cursor")
    if cursor:
        position = decode_cursor(str(cursor), kind)
        if not position.isdigit():
            raise SlackError("invalid_cursor")
        start = int(position)
    chunk = list(items[start : start + limit])
    end = start + len(chunk)
    return chunk, encode_cursor(kind, str(end)) if end < len(items) else ""
