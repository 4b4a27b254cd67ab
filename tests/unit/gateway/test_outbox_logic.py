"""The sender's pure pieces: classifying Slack's answers, markers, retry spacing, events."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from slackbridge.api.common import operation_status, request_digest
from slackbridge.api.schemas_ops import PostMessageRequest
from slackbridge.slack.outbound.outbox_files import _shared_ts, _text_outcome
from slackbridge.slack.outbound.outbox_ops import (
    MARKER_EVENT_TYPE,
    MARKER_KEY,
    _marked,
    with_marker,
)
from slackbridge.slack.outbound.outcomes import (
    MAX_ATTEMPTS,
    Outcome,
    classify_http_status,
    classify_slack_error,
    error_message,
    retry_delay,
)
from slackbridge.slack.outbound.sender import message_event
from slackbridge.slack.outbound.web_api import form_args, outcome_of_error
from slackbridge.store.repositories.outbox import OutboxMessage


@pytest.mark.parametrize(
    ("code", "disposition"),
    [
        ("channel_not_found", "fail"),
        ("is_archived", "fail"),
        ("msg_too_long", "fail"),
        ("no_text", "fail"),
        ("invalid_blocks", "fail"),
        ("not_in_channel", "join"),
        ("invalid_auth", "token"),
        ("token_revoked", "token"),
        ("account_inactive", "token"),
        ("ratelimited", "ratelimited"),
        ("internal_error", "retry"),
        ("service_unavailable", "retry"),
        ("request_timeout", "retry"),
        ("some_new_error", "fail"),
    ],
)
def test_slack_errors_are_classified(code: str, disposition: str) -> None:
    assert classify_slack_error(code) == disposition


def test_http_statuses_are_classified() -> None:
    assert classify_http_status(429) == ("ratelimited", "ratelimited")
    assert classify_http_status(500)[0] == "retry"
    assert classify_http_status(503) == ("retry", "http_error")
    assert classify_http_status(404) == ("fail", "http_404")


class _Response:
    def __init__(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.data = data
        self.headers = headers or {}


def _error(status: int, data: Any, headers: dict[str, str] | None = None) -> SlackApiError:
    return SlackApiError("failed", _Response(status, data, headers))


def test_outcome_of_slack_sdk_errors() -> None:
    limited = outcome_of_error(_error(429, {"ok": False}, {"Retry-After": "7"}))
    assert (limited.disposition, limited.retry_after) == ("ratelimited", 7.0)
    assert outcome_of_error(_error(429, {}, {"Retry-After": "soon"})).retry_after == 1.0
    logical = outcome_of_error(_error(200, {"ok": False, "error": "channel_not_found"}))
    assert (logical.disposition, logical.code, logical.sent) == ("fail", "channel_not_found", False)
    upstream = outcome_of_error(_error(502, "<html>bad gateway</html>"))
    assert (upstream.disposition, upstream.sent) == ("retry", True)


def test_form_args_encode_like_slack_expects() -> None:
    encoded = form_args({"channel": "C1", "blocks": [{"type": "divider"}], "limit": 5, "x": None})
    assert encoded == {"channel": "C1", "blocks": '[{"type":"divider"}]', "limit": "5"}
    assert form_args({"inclusive": True}) == {"inclusive": "true"}


def test_retry_delay_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    first = [retry_delay(1, rng=rng) for _ in range(50)]
    assert all(0.5 <= d <= 1.0 for d in first)
    assert all(60 <= retry_delay(30, rng=rng) <= 120 for _ in range(50))
    assert retry_delay(4, rng=random.Random(1)) > retry_delay(1, rng=random.Random(1))
    assert MAX_ATTEMPTS >= 5


def test_marker_keeps_product_metadata() -> None:
    plain = with_marker(None, "msg_a")
    assert plain == {"event_type": MARKER_EVENT_TYPE, "event_payload": {MARKER_KEY: "msg_a"}}
    theirs = {"event_type": "ticket", "event_payload": {"id": 4}}
    marked = with_marker(theirs, "msg_b")
    assert marked == {"event_type": "ticket", "event_payload": {"id": 4, MARKER_KEY: "msg_b"}}
    assert theirs == {"event_type": "ticket", "event_payload": {"id": 4}}  # not mutated
    assert _marked({"metadata": marked}, "msg_b")
    assert not _marked({"metadata": marked}, "msg_c")
    assert not _marked({"text": "no metadata"}, "msg_b")


def test_response_url_answers() -> None:
    assert _text_outcome(200, "ok", {}).disposition == "done"
    assert _text_outcome(404, "expired_url", {}).code == "expired_url"
    assert _text_outcome(400, "<html>", {}).code == "http_400"
    assert _text_outcome(429, "", {"Retry-After": "3"}).retry_after == 3.0
    assert _text_outcome(502, "", {}).disposition == "retry"


def test_file_share_lookup() -> None:
    file = {"shares": {"public": {"C1": [{"ts": "1700000000.000100"}]}}}
    assert _shared_ts(file, "C1") == (True, "1700000000.000100")
    assert _shared_ts(file, "C2") == (False, None)
    assert _shared_ts({"channels": ["C2"]}, "C2") == (True, None)
    assert _shared_ts({}, None) == (True, None)


def _row(**fields: Any) -> OutboxMessage:
    base: dict[str, Any] = {
        "id": 1,
        "message_id": "msg_x",
        "idempotency_scope": None,
        "idempotency_key": None,
        "team_id": "T1",
        "installation_id": 1,
        "method": "chat.postMessage",
        "lane_key": "T1:C1:",
        "payload": {"channel": "C1", "thread_ts": None},
        "as_user": None,
        "status": "queued",
        "attempts": 1,
        "not_before": datetime(2024, 1, 1, tzinfo=UTC),
        "lease_owner": None,
        "lease_expires_at": None,
        "result": None,
        "last_error": None,
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
        "sent_at": None,
    }
    return OutboxMessage(**{**base, **fields})


def test_message_events() -> None:
    delivered = message_event(
        _row(), Outcome.ok({"ts": "1.000001", "channel": "C1"}), "A1", attempts=2
    )
    assert delivered.type == "message.delivered"
    assert delivered.data["message"] == {
        "id": "msg_x",
        "operation": "chat.postMessage",
        "channel": "C1",
        "ts": "1.000001",
        "thread_ts": None,
        "attempts": 2,
    }
    assert delivered.data["channel"] == {"id": "C1", "kind": "public"}
    assert delivered.ordering_key == "T1:C1"
    failed = message_event(_row(), Outcome.failed("is_archived"), "A1", attempts=1)
    assert failed.type == "message.failed"
    assert failed.data["error"] == {"code": "is_archived", "message": error_message("is_archived")}
    # One event per row and type: redispatching it after a crash changes nothing.
    assert failed.dedupe_key == delivered.dedupe_key == "outbox:msg_x"


def test_operation_status_shows_progress_and_errors() -> None:
    waiting = operation_status(_row(status="queued", last_error="internal_error"))
    assert waiting.error is not None and waiting.error.code == "internal_error"
    sent = operation_status(
        _row(status="sent", result={"ts": "1.000002", "channel": "C1", "thread_ts": "1.000001"})
    )
    assert (sent.ts, sent.thread_ts, sent.error) == ("1.000002", "1.000001", None)
    failed = operation_status(
        _row(
            status="failed",
            last_error="channel_not_found",
            result={"error": {"code": "channel_not_found", "message": "gone"}, "slack": {}},
        )
    )
    assert failed.error is not None and failed.error.message == "gone"
    uploading = operation_status(
        _row(status="sending", result={"stage": "uploading", "upload_url": "https://x"})
    )
    assert uploading.result == {}


def test_request_digest_is_canonical() -> None:
    one = PostMessageRequest.model_validate({"workspace": "T1AA", "channel": "C1AA", "text": "a"})
    same = PostMessageRequest.model_validate({"text": "a", "channel": "C1AA", "workspace": "T1AA"})
    other = PostMessageRequest.model_validate({"workspace": "T1AA", "channel": "C1AA", "text": "b"})
    assert request_digest("post", one) == request_digest("post", same)
    assert request_digest("post", one) != request_digest("post", other)
    assert request_digest("post", one) != request_digest("update", one)
    huge = {"blocks": [{"type": "x", "n": 2**80}]}
    assert len(request_digest("post", huge)) == 64
