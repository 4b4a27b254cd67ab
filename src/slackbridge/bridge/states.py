"""What a settled outbox operation means for a conversation or a message. Pure.

A conversation is ``creating`` until the operation making its Slack place (the card's post, or
``conversations.create``) is sent (→ ``open``, with channel and thread) or failed (→ ``failed``,
with the error). ``close`` and ``reopen`` move ``open`` ↔ ``closed`` at once (their operations
follow in the conversation's lane). A product message is ``queued`` until its post is sent (→
``sent`` with the ts) or failed; a message of files only takes the first upload's ts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CLOSABLE",
    "REOPENABLE",
    "OpView",
    "ReplyAfterClose",
    "conversation_update",
    "message_update",
    "reply_after_close",
]

#: States from which ``close`` / ``reopen`` act (``creating``: its operations wait in the lane).
CLOSABLE = ("creating", "open")
REOPENABLE = ("closed",)

ReplyAfterClose = Literal["reopen", "tell"]


@dataclass(frozen=True)
class OpView:
    """What the bridge needs to know of an outbox operation."""

    id: str
    status: str  # queued, sending, sent, failed
    result: Mapping[str, Any]
    error: str | None = None

    @property
    def settled(self) -> bool:
        return self.status in ("sent", "failed")


def _error_code(op: OpView) -> str:
    stored = op.result.get("error")
    if isinstance(stored, Mapping) and stored.get("code"):
        return str(stored["code"])
    return op.error or "unknown_error"


def conversation_update(mode: str, op: OpView) -> dict[str, Any] | None:
    """The columns to set on a ``creating`` conversation now that ``op`` (its creating
    operation) has settled; None while it has not."""
    if not op.settled:
        return None
    if op.status == "failed":
        return {"state": "failed", "error": _error_code(op)}
    channel = op.result.get("channel")
    if mode == "still":
        return {"state": "open", "channel_id": channel, "thread_ts": op.result.get("ts")}
    return {"state": "open", "channel_id": channel, "thread_ts": None}


def message_update(post: OpView | None, files: Sequence[OpView]) -> dict[str, Any] | None:
    """The columns to set on a ``queued`` product message once its post (and uploads) settled;
    None while any is unsettled."""
    ops = [op for op in (post, *files) if op is not None]
    if not ops or not all(op.settled for op in ops):
        return None
    file_ids = [str(op.result["file_id"]) for op in files if op.result.get("file_id")]
    if post is not None and post.status == "failed":
        return {"state": "failed", "error": _error_code(post), "file_ids": file_ids}
    first_ok = next((op for op in ops if op.status == "sent"), None)
    if first_ok is None:
        return {"state": "failed", "error": _error_code(ops[0]), "file_ids": file_ids}
    failed_files = [op for op in files if op.status == "failed"]
    return {
        "state": "sent",
        "ts": first_ok.result.get("ts"),
        "file_ids": file_ids,
        "error": _error_code(failed_files[0]) if failed_files else None,
    }


def reply_after_close(setting: ReplyAfterClose, *, from_product_user: bool) -> str:
    """What a Slack reply to a closed conversation does: ``reopen`` it (and tell the product),
    ``tell`` the person it is closed (the reply still reaches the product), or ``pass`` (the
    gateway's own or the product's posts change nothing)."""
    if from_product_user:
        return "pass"
    return setting
