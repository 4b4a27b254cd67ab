"""What a call to Slack came to, and what the sender does about it. Pure: no I/O.

Slack answers a Web API call in one of a few ways: ``ok`` (done), HTTP 429 with ``Retry-After``
(not done; wait), HTTP 5xx or a dropped connection (maybe done; try again later), or HTTP 200
with ``{"ok": false, "error": code}`` (not done; the code says whether trying again can help).
:func:`classify_slack_error` turns the code into one of the sender's :class:`Disposition` values
and :func:`retry_delay` spaces the retries of transient failures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

from slackbridge.store.queue_policy import Backoff

__all__ = [
    "BACKOFF",
    "ERROR_MESSAGES",
    "MAX_ATTEMPTS",
    "TOKEN_ERRORS",
    "TRANSIENT_ERRORS",
    "Disposition",
    "Outcome",
    "classify_http_status",
    "classify_slack_error",
    "error_message",
    "retry_delay",
]

#: What happens to an outbox row after a call.
#:  ``done``: Slack did it. ``retry``: try again after a backoff (the attempt counts).
#:  ``ratelimited``: Slack said 429; wait ``retry_after`` (the attempt does not count).
#:  ``fail``: give up now with ``code``. ``token``: the token may be dead; ask the install part.
#:  ``join``: not in the channel; join a public channel once and try again.
Disposition = Literal["done", "retry", "ratelimited", "fail", "token", "join"]

#: Transient failures are retried this many times in all before the row fails.
MAX_ATTEMPTS = 10
#: Exponential from one second, capped at two minutes (``store/queue_policy.py``).
BACKOFF = Backoff(base=1.0, cap=120.0)

#: Codes that mean the token itself no longer works (the workspace gets marked disconnected).
TOKEN_ERRORS: frozenset[str] = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "org_login_required",
        "team_access_not_granted",
    }
)

#: Codes Slack documents as temporary: trying again later can succeed.
TRANSIENT_ERRORS: frozenset[str] = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "timeout",
        "connection_error",
        "bad_gateway",
        "http_error",
    }
)

#: A sentence for each stable error code the product can see on a message (``error.message``).
ERROR_MESSAGES: dict[str, str] = {
    "channel_not_found": "the channel does not exist or the app cannot see it",
    "not_in_channel": "the app is not a member of the channel (and could not join it)",
    "is_archived": "the channel is archived",
    "msg_too_long": "the message text is too long",
    "no_text": "the message has no text, blocks or attachments",
    "invalid_blocks": "the blocks are not valid Block Kit",
    "invalid_attachments": "the attachments are not valid",
    "too_many_attachments": "the message has too many attachments",
    "missing_scope": "the app lacks a scope this call needs (reinstall with it)",
    "restricted_action": "the workspace does not allow the app to do this here",
    "message_not_found": "the message to change does not exist",
    "cant_update_message": "this message cannot be updated by the app",
    "cant_delete_message": "this message cannot be deleted by the app",
    "edit_window_closed": "the message is too old to be edited",
    "user_not_in_channel": "the user is not a member of the channel",
    "thread_not_found": "the thread to reply to does not exist",
    "expired_url": "the response_url has expired (they live 30 minutes, 5 uses)",
    "used_url": "the response_url has been used up (5 uses)",
    "workspace_disconnected": "Slack rejected the workspace's token; reinstall the app",
    "workspace_uninstalled": "the app is no longer installed in the workspace",
    "workspace_removed": "the workspace was removed from slackbridge",
    "workspace_not_found": "slackbridge has no installation for this workspace",
    "user_token_missing": "the user has not granted the app a user token",
    "original_failed": "the message this operation refers to was never delivered",
    "retries_exhausted": "Slack kept failing; slackbridge gave up after retrying",
    "timeout": "Slack did not answer in time",
    "connection_error": "Slack could not be reached",
    "internal_error": "Slack had an internal error",
}


def error_message(code: str) -> str:
    """A human sentence for a stable error ``code`` (Slack's own codes included)."""
    return ERROR_MESSAGES.get(code, f"Slack answered {code!r}")


@dataclass(frozen=True)
class Outcome:
    """The result of one operation attempt.

    ``code`` is the stable error code (Slack's, or one of slackbridge's own) when not done;
    ``data`` is Slack's answer when there was one; ``retry_after`` is seconds for ``ratelimited``.
    ``sent`` tells whether Slack may have acted even though the outcome is not ``done``.
    """

    disposition: Disposition
    code: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    retry_after: float = 0.0
    sent: bool = False

    @staticmethod
    def ok(data: dict[str, Any] | None = None) -> Outcome:
        return Outcome("done", data=dict(data or {}))

    @staticmethod
    def failed(code: str, data: dict[str, Any] | None = None) -> Outcome:
        return Outcome("fail", code=code, data=dict(data or {}))


def classify_slack_error(code: str) -> Disposition:
    """What to do about ``{"ok": false, "error": code}``."""
    if code in TOKEN_ERRORS:
        return "token"
    if code == "not_in_channel":
        return "join"
    if code == "ratelimited":
        return "ratelimited"
    if code in TRANSIENT_ERRORS:
        return "retry"
    return "fail"


def classify_http_status(status: int) -> tuple[Disposition, str]:
    """What to do about an HTTP answer without a usable Slack body: (disposition, code)."""
    if status == 429:
        return "ratelimited", "ratelimited"
    if status >= 500 or status == 408:
        return "retry", "internal_error" if status == 500 else "http_error"
    return "fail", f"http_{status}"


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds before retrying after failed attempt number ``attempt`` (1-based).

    Exponential from one second, capped at two minutes, with jitter so that many rows hit by the
    same outage do not come back in one wave.
    """
    return BACKOFF.seconds(attempt, rng=rng)
