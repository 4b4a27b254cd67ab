"""The Slack-facing HTTP routes: ``/slack/events|commands|interactivity|outgoing``.

Every request goes through the same small steps (``ingress_checks.py``): size limit (413), the
ssl_check handshake, the signature against every configured app's signing secret (401; legacy
outgoing webhooks carry no signature and are checked by their verification token instead, and
only for apps configured with ``outgoing_webhooks``: 404 otherwise), parsing (400), the
url_verification handshake, then the inbox row, without Slack's legacy verification token
(``without_token``), committed (group commit) before the answer. Nothing is stored for a
rejected request, and no answer carries a traceback.
If the store can't commit in time the answer is 503, so that Slack retries; Slack's retries carry
the same event_id (events) or the same bytes (everything else), which the inbox absorbs.

Commands and interactions are acked with an empty 200 (the product answers later through
``response_url`` or the API) unless a synchronous product endpoint answered in time, whose answer
is relayed. The routes are raw ASGI apps (``raw_routes``, see ``server.py``): this is the hot
path, and FastAPI's middleware stack would cost more than everything done here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from slackbridge import metrics
from slackbridge.domain.payloads import PayloadKind
from slackbridge.runtime import Gateway, Worker
from slackbridge.slack.inbound.group_commit import CommitUnavailable
from slackbridge.slack.inbound.ingress_checks import (
    Rejected,
    body_dedupe_key,
    check_content_length,
    event_dedupe_key,
    is_ssl_check,
    match_verification_token,
    parse_request,
    retry_info,
    without_token,
)
from slackbridge.slack.inbound.ingress_keys import KnownKeys, keys_of
from slackbridge.slack.inbound.intake import Intake, accept, committer
from slackbridge.slack.inbound.verify import SignatureError, verify_signature

__all__ = ["ROUTES", "raw_routes", "workers"]

_log = logging.getLogger("slackbridge.ingress")

#: Route path → the kind of payload it receives.
ROUTES: dict[str, PayloadKind] = {
    "/slack/events": "events",
    "/slack/commands": "commands",
    "/slack/interactivity": "interactivity",
    "/slack/outgoing": "outgoing",
}


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the group committer of inbox rows."""
    return [committer(gateway)]


class _Disconnected(Exception):
    """The client went away before sending the whole body."""


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    check_content_length(declared, limit)
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > limit:
            raise Rejected(413, f"request body above the {limit}-byte limit", "rejected_size")
        if not message.get("more_body"):
            return bytes(body)


def _verify(keys: KnownKeys, headers: Mapping[str, str], body: bytes) -> int:
    if not keys.signing:
        raise SignatureError("no signing secret is configured")
    index = verify_signature(
        [secret for _, secret in keys.signing],
        headers.get("x-slack-request-timestamp"),
        headers.get("x-slack-signature"),
        body,
        now=time.time(),
    )
    return keys.signing[index][0]


async def _signed_app(gateway: Gateway, headers: Mapping[str, str], body: bytes) -> int:
    keys = keys_of(gateway)
    try:
        return _verify(await keys.current(), headers, body)
    except SignatureError as exc:
        fresh = await keys.after_mismatch()  # an app may have been added just now
        if fresh is None:
            raise Rejected(401, exc.reason, "rejected_signature") from None
    try:
        return _verify(fresh, headers, body)
    except SignatureError as exc:
        raise Rejected(401, exc.reason, "rejected_signature") from None


async def _outgoing_tokens(gateway: Gateway) -> tuple[tuple[int, str], ...]:
    """The verification tokens of the apps that take legacy outgoing webhooks; 404 when none
    does, so that the route is off (and stores nothing) unless an app is configured for it."""
    keys = keys_of(gateway)
    known = await keys.current()
    if not known.verification:
        known = await keys.after_mismatch() or known
    if not known.verification:
        raise Rejected(
            404,
            "legacy outgoing webhooks are off: no app has outgoing_webhooks = true "
            "and a verification_token (see docs/configuration.md)",
            "rejected_disabled",
        )
    return known.verification


def _token_app(tokens: tuple[tuple[int, str], ...], token: str) -> int:
    index = match_verification_token(token, [t for _, t in tokens])
    return tokens[index][0]


def _slack_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers the ingress reads (Content-Length and Slack's own), decoded."""
    return {
        k.decode("latin-1"): v.decode("latin-1")
        for k, v in raw
        if k.startswith(b"x-slack-") or k == b"content-length"
    }


async def _respond(
    send: Send, status: int, body: bytes = b"", content_type: str = "text/plain"
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _handle(
    scope: Scope, receive: Receive, send: Send, kind: PayloadKind, route: str
) -> None:
    started = time.perf_counter()
    outcome = "accepted"
    try:
        if scope["method"] != "POST":
            outcome = "rejected_method"
            await _respond(send, 405, b"use POST")
            return
        gateway: Gateway = scope["state"]["gateway"]
        headers = _slack_headers(scope["headers"])
        body = await _read_body(
            receive, headers.get("content-length"), gateway.settings.ingress_max_body_bytes
        )
        if is_ssl_check(kind, body):
            outcome = "ssl_check"
            await _respond(send, 200)
            return
        app_ref: int | None = None
        outgoing: tuple[tuple[int, str], ...] = ()
        if kind == "outgoing":
            outgoing = await _outgoing_tokens(gateway)
        else:
            app_ref = await _signed_app(gateway, headers, body)
        parsed = parse_request(kind, body)
        if parsed.answer is not None:
            outcome = "url_verification"
            await _respond(send, 200, parsed.answer, parsed.answer_type)
            return
        if kind == "outgoing":
            app_ref = _token_app(outgoing, str(parsed.payload.get("token", "")))
        if kind == "events":
            key = event_dedupe_key(parsed.payload, body)
        else:
            key = body_dedupe_key(kind, body)
        meta = {"transport": "http", **retry_info(headers)}
        body, payload = without_token(kind, body, parsed.payload)
        accepted = await accept(gateway, Intake(kind, body, payload, key, app_ref, meta))
        if not accepted.new:
            outcome = "duplicate"
        answer = accepted.answer
        if answer is not None:
            await _respond(send, 200, answer.body, answer.content_type)
        else:
            await _respond(send, 200)
    except Rejected as rejected:
        outcome = rejected.outcome
        await _respond(send, rejected.status, rejected.message.encode())
    except CommitUnavailable as exc:
        outcome = "unavailable"
        _log.warning("answering 503 to Slack (%s): %s", route, exc)
        await _respond(send, 503, b"the inbox is unavailable; retry later")
    except _Disconnected:
        outcome = "disconnected"
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception:
        outcome = "error"
        _log.exception("ingress failed on %s", route)
        await _respond(send, 500, b"internal error; retry later")
    finally:
        _count(route, outcome, time.perf_counter() - started)


_REQUESTS: dict[tuple[str, str], Any] = {}
_ACKS: dict[str, Any] = {}


def _count(route: str, outcome: str, seconds: float) -> None:
    # Label lookups cost more than the increments; keep the children at hand.
    counter = _REQUESTS.get((route, outcome))
    if counter is None:
        counter = _REQUESTS[(route, outcome)] = metrics.INGRESS_REQUESTS.labels(route, outcome)
    counter.inc()
    histogram = _ACKS.get(route)
    if histogram is None:
        histogram = _ACKS[route] = metrics.INGRESS_ACK_SECONDS.labels(route)
    histogram.observe(seconds)


def _route(kind: PayloadKind, name: str) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _handle(scope, receive, send, kind, name)

    return app


#: Gateway part hook: the ingress paths, served as raw ASGI (no FastAPI middleware per request).
raw_routes: dict[str, ASGIApp] = {
    path: _route(kind, path.rsplit("/", 1)[1]) for path, kind in ROUTES.items()
}
