"""Public ids for queue rows (``msg_…``): random, URL-safe, hard to guess."""

from __future__ import annotations

import secrets
import string

__all__ = ["new_id"]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str = "msg", length: int = 27) -> str:
    """``<prefix>_`` followed by ``length`` random base62 characters (~160 bits)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
