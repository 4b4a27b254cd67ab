"""Pure checks on a request Slack sent to one of the ingress routes (no I/O, no clock).

The edge (``slack/inbound/ingress.py``) runs them in this order: size limit → ssl_check (answered at
once) → signature (``verify.py``) → :func:`parse_request` (which answers url_verification) →
dedupe key → :func:`without_token`. Each failed check raises :class:`Rejected` with the HTTP
status and a short message that is safe to show the caller; nothing is stored for a rejected
request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import orjson

from slackbridge.domain.payloads import PayloadKind

__all__ = [
    "Parsed",
    "Rejected",
    "body_dedupe_key",
    "check_content_length",
    "event_dedupe_key",
    "is_ssl_check",
    "match_verification_token",
    "parse_request",
    "retry_info",
    "socket_dedupe_key",
    "without_token",
]


@dataclass(frozen=True)
class Rejected(Exception):
    """A request refused at the edge: answer ``status`` with ``message``; store nothing."""

    status: int
    message: str
    outcome: str  # metric label: rejected_size, rejected_signature, rejected_malformed, ...

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Parsed:
    """A well-formed request: the payload to store, or an ``answer`` to give without storing."""

    kind: PayloadKind
    payload: dict[str, Any]
    answer: bytes | None = None  # url_verification: answer this, store nothing
    answer_type: str = "text/plain"


def check_content_length(header: str | None, limit: int) -> None:
    """Refuse a request whose declared length is invalid or above ``limit`` bytes."""
    if header is None:
        return
    try:
        length = int(header)
    except ValueError:
        raise Rejected(400, "invalid Content-Length", "rejected_malformed") from None
    if length < 0:
        raise Rejected(400, "invalid Content-Length", "rejected_malformed")
    if length > limit:
        raise Rejected(413, f"request body above the {limit}-byte limit", "rejected_size")


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "body is not a valid form", "rejected_malformed") from None
    return dict(pairs)


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Rejected(400, f"{what} is not valid JSON", "rejected_malformed") from None
    if not isinstance(value, dict):
        raise Rejected(400, f"{what} is not a JSON object", "rejected_malformed")
    return value


def parse_request(kind: PayloadKind, body: bytes) -> Parsed:
    """Parse a signed body of route ``kind`` (outgoing webhooks: checked by token afterwards).

    url_verification is answered with its challenge and not stored. A body missing the fields
    that make it a Slack payload of its kind is malformed.
    """
    if kind == "events":
        payload = _json_object(body, "body")
        ptype = payload.get("type")
        if not isinstance(ptype, str):
            raise Rejected(400, "event payload has no type", "rejected_malformed")
        if ptype == "url_verification":
            challenge = payload.get("challenge")
            if not isinstance(challenge, str):
                raise Rejected(400, "url_verification without a challenge", "rejected_malformed")
            answer = orjson.dumps({"challenge": challenge})
            return Parsed(kind, payload, answer=answer, answer_type="application/json")
        if ptype == "event_callback" and not isinstance(payload.get("event"), dict):
            raise Rejected(400, "event_callback without an event", "rejected_malformed")
        return Parsed(kind, payload)
    form = _form(body)
    if kind == "interactivity":
        raw = form.get("payload")
        if raw is None:
            raise Rejected(400, "missing payload field", "rejected_malformed")
        payload = _json_object(raw, "payload")
        if not isinstance(payload.get("type"), str):
            raise Rejected(400, "interaction payload has no type", "rejected_malformed")
        return Parsed(kind, payload)
    if kind == "commands" and not form.get("command"):
        raise Rejected(400, "missing command field", "rejected_malformed")
    if kind == "outgoing" and not form.get("token"):
        raise Rejected(401, "missing verification token", "rejected_token")
    return Parsed(kind, form)


def is_ssl_check(kind: PayloadKind, body: bytes) -> bool:
    """Slack's certificate check on a command URL: answered 200 at once, stored nowhere."""
    if kind != "commands" or b"ssl_check=1" not in body:
        return False
    try:
        return dict(parse_qsl(body.decode("utf-8"))).get("ssl_check") == "1"
    except (UnicodeDecodeError, ValueError):
        return False


def match_verification_token(token: str, candidates: Sequence[str]) -> int:
    """Index of the configured verification token equal to ``token`` (constant time per
    candidate); raises :class:`Rejected` (401) when none is."""
    matched = -1
    for index, candidate in enumerate(candidates):
        if hmac.compare_digest(candidate.encode(), token.encode()) and matched < 0:
            matched = index
    if matched < 0:
        raise Rejected(401, "verification token does not match", "rejected_token")
    return matched


def _form_key(pair: bytes) -> bytes:
    key = pair.split(b"=", 1)[0]
    if b"%" in key or b"+" in key:  # a key spelled with escapes still names the same field
        return unquote_plus(key.decode("utf-8", "replace")).encode()
    return key


def without_token(
    kind: PayloadKind, body: bytes, payload: dict[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    """``body`` and ``payload`` without Slack's legacy verification token, as they are stored.

    Every kind of request carries the token (top level of an event's JSON, a field of a command's
    or outgoing webhook's form, inside an interaction's ``payload`` JSON), and it is the only
    credential of ``/slack/outgoing``: kept in the inbox (and its write-ahead log) for days, it
    would let whoever reads the database forge messages. Call this after the token was checked
    and the dedupe key computed from the bytes Slack sent. A body without a token is returned
    as it is, at the cost of one dict lookup.
    """
    if "token" not in payload:
        return body, payload
    clean = dict(payload)
    del clean["token"]
    if kind == "events":
        return orjson.dumps(clean), clean
    if kind == "interactivity":
        # The form holds little besides ``payload``: re-encode it with the cleaned JSON.
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        form["payload"] = orjson.dumps(clean).decode("utf-8")
        return urlencode(form).encode("ascii"), clean
    # Commands and outgoing webhooks: drop the field from the form, keep every other byte.
    kept = [
        pair
        for pair in body.split(b"&")
        if not pair.startswith(b"token=")
        and not ((b"%" in pair or b"+" in pair) and _form_key(pair) == b"token")
    ]
    return b"&".join(kept), clean


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_dedupe_key(payload: Mapping[str, Any], body: bytes) -> str:
    """``ev:<app>:<event_id>``: Slack sends the same event_id on every retry of an event."""
    event_id = payload.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"ev:{payload.get('api_app_id') or '-'}:{event_id}"
    return body_dedupe_key("events", body)


def body_dedupe_key(kind: str, body: bytes) -> str:
    """``<kind>:<sha256 of the body>``: a retried command or interaction has the same bytes."""
    return f"{kind}:{_digest(body)}"


def socket_dedupe_key(kind: PayloadKind, payload: Mapping[str, Any]) -> str:
    """The key of a Socket Mode payload: the same as over HTTP for events (event_id), otherwise
    a digest of the payload's JSON."""
    body = orjson.dumps(payload)
    if kind == "events":
        return event_dedupe_key(payload, body)
    return body_dedupe_key(kind, body)


def retry_info(headers: Mapping[str, str]) -> dict[str, Any]:
    """Slack's retry headers, kept with the inbox row (``retry_num`` 0 on a first attempt)."""
    info: dict[str, Any] = {}
    num = headers.get("x-slack-retry-num")
    if num is not None:
        info["retry_num"] = int(num) if num.isdigit() else num
        info["retry_reason"] = headers.get("x-slack-retry-reason", "")
    return info
