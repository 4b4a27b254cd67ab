"""Block Kit checks shared by every way a message reaches the emulator (pure functions).

Messages come in through the Web API, the control API, apps' answers to commands and
``response_url``s, and incoming webhooks; all of them must hold the same shape, because the
rest of the emulator (rendering, the web page, finding the button a person clicks) relies on it:
``blocks`` is a list of at most 50 objects that each name their ``type``, and ``attachments``
a list of objects.
"""

from __future__ import annotations

from typing import Any, TypeGuard

__all__ = ["MAX_BLOCKS", "is_attachment_list", "is_block_list"]

MAX_BLOCKS = 50  # Slack's limit for a message


def is_block_list(value: object) -> TypeGuard[list[dict[str, Any]]]:
    """Whether ``value`` is a list of Block Kit blocks (each an object with a string ``type``)."""
    return (
        isinstance(value, list)
        and len(value) <= MAX_BLOCKS
        and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in value)
    )


def is_attachment_list(value: object) -> TypeGuard[list[dict[str, Any]]]:
    """Whether ``value`` is a list of (legacy) message attachments, each an object."""
    return isinstance(value, list) and all(isinstance(a, dict) for a in value)
