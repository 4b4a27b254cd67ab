"""The Slack-facing HTTP routes: ``/slack/events|commands|interactivity|outgoing``.

Every request goes through the same small steps (``ingress_checks.py``): size limit (413), the
ssl_check handshake, the signature against every configured app's signing secret (401; legacy
outgoing webhooks carry no signature and are checked by their verification token instead),
parsing (400), the url_verification handshake, then the inbox row, committed (group commit)
before the answer. Nothing is stored for a rejected request, and no answer carries a traceback.
If the store can't commit in time the answer is 503, so that Slack retries; Slack's retries carry
the same event_id (events) or the same bytes (everything else), which the inbox absorbs.

Commands and interactions are acked with an empty 200 (the product answers later through
``response_url`` or the API) unless a synchronous product endpoint answered in time, whose answer
is relayed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import Response

from slackbridge import metrics
from slackbridge.pipeline.normalize import PayloadKind
from slackbridge.server import Gateway, Worker, gateway_of
from slackbridge.slack import apps
from slackbridge.slack.group_commit import CommitUnavailable
from slackbridge.slack.ingress_checks import (
    Rejected,
    body_dedupe_key,
    check_content_length,
    event_dedupe_key,
    is_ssl_check,
    match_verification_token,
    parse_request,
    retry_info,
)
from slackbridge.slack.intake import Intake, accept, committer
from slackbridge.slack.verify import SignatureError, verify_signature

__all__ = ["ROUTES", "router", "workers"]

_log = logging.getLogger("slackbridge.ingress")

#: Route path → the kind of payload it receives.
ROUTES: dict[str, PayloadKind] = {
    "/slack/events": "events",
    "/slack/commands": "commands",
    "/slack/interactivity": "interactivity",
    "/slack/outgoing": "outgoing",
}

router = APIRouter()


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the group committer of inbox rows."""
    return [committer(gateway)]


async def _read_body(request: Request, limit: int) -> bytes:
    check_content_length(request.headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"request body above the {limit}-byte limit", "rejected_size")
        chunks.append(chunk)
    return b"".join(chunks)


async def _signed_app(gateway: Gateway, headers: Headers, body: bytes) -> int:
    candidates = await apps.signing_secrets(gateway)
    if not candidates:
        raise Rejected(401, "no signing secret is configured", "rejected_signature")
    try:
        index = verify_signature(
            [secret for _, _, secret in candidates],
            headers.get("x-slack-request-timestamp"),
            headers.get("x-slack-signature"),
            body,
            now=time.time(),
        )
    except SignatureError as exc:
        raise Rejected(401, exc.reason, "rejected_signature") from None
    return candidates[index][0]


async def _token_app(gateway: Gateway, token: str) -> int:
    known = [(a.id, a.verification_token) for a in await apps.list_apps(gateway)]
    tokens = [(ref, t) for ref, t in known if t]
    if not tokens:
        raise Rejected(401, "no verification token is configured", "rejected_token")
    index = match_verification_token(token, [t for _, t in tokens])
    return tokens[index][0]


def _plain(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain")


async def _handle(request: Request, kind: PayloadKind, route: str) -> Response:
    started = time.perf_counter()
    gateway = gateway_of(request)
    outcome = "accepted"
    try:
        body = await _read_body(request, gateway.settings.ingress_max_body_bytes)
        if is_ssl_check(kind, body):
            outcome = "ssl_check"
            return Response(status_code=200)
        app_ref: int | None = None
        if kind != "outgoing":
            app_ref = await _signed_app(gateway, request.headers, body)
        parsed = parse_request(kind, body)
        if parsed.answer is not None:
            outcome = "url_verification"
            return Response(parsed.answer, status_code=200, media_type=parsed.answer_type)
        if kind == "outgoing":
            app_ref = await _token_app(gateway, str(parsed.payload.get("token", "")))
        if kind == "events":
            key = event_dedupe_key(parsed.payload, body)
        else:
            key = body_dedupe_key(kind, body)
        headers = {"transport": "http", **retry_info(request.headers)}
        item = Intake(kind, body, parsed.payload, key, app_ref, headers)
        accepted = await accept(gateway, item)
        if not accepted.new:
            outcome = "duplicate"
        answer = accepted.answer
        if answer is not None:
            return Response(answer.body, status_code=200, media_type=answer.content_type)
        return Response(status_code=200)
    except Rejected as rejected:
        outcome = rejected.outcome
        return _plain(rejected.status, rejected.message)
    except CommitUnavailable as exc:
        outcome = "unavailable"
        _log.warning("answering 503 to Slack (%s): %s", route, exc)
        return _plain(503, "the inbox is unavailable; retry later")
    except Exception:
        outcome = "error"
        _log.exception("ingress failed on %s", route)
        return _plain(500, "internal error; retry later")
    finally:
        metrics.INGRESS_REQUESTS.labels(route, outcome).inc()
        metrics.INGRESS_ACK_SECONDS.labels(route).observe(time.perf_counter() - started)


def _endpoint(kind: PayloadKind, route: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _handle(request, kind, route)

    endpoint.__name__ = f"slack_{kind}"
    endpoint.__doc__ = f"Receive Slack {kind} payloads."
    return endpoint


for _path, _kind in ROUTES.items():
    router.add_api_route(
        _path,
        _endpoint(_kind, _path.rsplit("/", 1)[1]),
        methods=["POST"],
        include_in_schema=False,
    )
