"""``response_url`` endpoints and incoming webhooks: the URLs apps POST messages to.

A ``response_url`` (from a slash command or an interaction) takes up to 5 messages within 30
minutes (scaled by ``speed``): ``text``/``blocks``/``attachments``, ``response_type``
(``ephemeral``, the default, or ``in_channel``), ``replace_original``, ``delete_original`` and
``thread_ts``. Incoming webhooks (``/services/T…/B…/X…``) post into the channel chosen at
install. Both answer like Slack: ``ok`` or an error as plain text with an HTTP status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.blocks import is_attachment_list, is_block_list
from slackbridge.emulator.installs import find_incoming_webhook
from slackbridge.emulator.ops import (
    base_url,
    delete_message,
    edit_message,
    post_ephemeral,
    post_message,
)
from slackbridge.emulator.state import Channel, EmulatorState, User
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "RESPONSE_URL_LIFETIME",
    "RESPONSE_URL_USES",
    "ResponseUrl",
    "ResponseUrls",
    "routes",
]

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 1800.0  # seconds (30 minutes), divided by the emulator's speed


@dataclass
class ResponseUrl:
    id: str
    app_id: str
    team_id: str
    channel_id: str
    user_id: str  # who acted: ephemeral responses are shown to them
    expires_at: float
    message_ts: str | None = None  # the message the action came from (for replace/delete)
    ephemeral_source: bool = False  # that message was an ephemeral one
    uses: int = 0


class ResponseUrls:
    """The response URLs handed out with commands and interactions."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._urls: dict[str, ResponseUrl] = {}

    def create(
        self,
        app_id: str,
        team_id: str,
        channel_id: str,
        user_id: str,
        *,
        message_ts: str | None = None,
        ephemeral_source: bool = False,
    ) -> str:
        """A new response URL; returns the URL."""
        now = self._state.now()
        for key in [k for k, u in self._urls.items() if u.expires_at < now]:
            del self._urls[key]
        url_id = f"{team_id}/{secrets.randbelow(10**12):012d}/{secrets.token_urlsafe(18)}"
        self._urls[url_id] = ResponseUrl(
            id=url_id,
            app_id=app_id,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            expires_at=now + self._state.scaled(RESPONSE_URL_LIFETIME),
            message_ts=message_ts,
            ephemeral_source=ephemeral_source,
        )
        return f"{base_url(self._state)}/_emulator/response/{url_id}"

    def get(self, url_id: str) -> ResponseUrl | None:
        return self._urls.get(url_id)

    def clear(self) -> None:
        self._urls.clear()


def _text(status: int, body: str) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


async def _read_message(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        async with request.form() as form:
            payload = form.get("payload")
        raw = payload.encode() if isinstance(payload, str) else b""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


_Content = tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]


def _content(body: dict[str, Any]) -> _Content | str:
    """The message's text, blocks and attachments, or the plain-text error Slack answers."""
    text = body.get("text")
    blocks = body.get("blocks")
    attachments = body.get("attachments")
    if text is not None and not isinstance(text, str):
        return "invalid_payload"
    if blocks is not None and not isinstance(blocks, list):
        return "invalid_payload"
    if attachments is not None and not is_attachment_list(attachments):
        return "invalid_payload"
    if blocks is not None and not is_block_list(blocks):
        return "invalid_blocks"
    if not text and not blocks and not attachments:
        return "no_text"
    return text or "", blocks, attachments


def _thread_ts(body: dict[str, Any]) -> str | None:
    thread_ts = body.get("thread_ts")
    return thread_ts if isinstance(thread_ts, str) else None


def _post_as_app(
    state: EmulatorState,
    channel: Channel,
    bot: User,
    content: _Content,
    thread_ts: str | None,
    subtype: str | None = None,
) -> Response:
    """Post the app's message in the channel: ``ok``, or the plain-text error (a bad thread)."""
    text, blocks, attachments = content
    try:
        post_message(
            state,
            channel,
            bot,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            subtype=subtype,
        )
    except SlackError as exc:
        return _text(404, exc.error)
    return _text(200, "ok")


def _bot_user(state: EmulatorState, app_id: str, team_id: str) -> User | None:
    inst = state.installation(app_id, team_id)
    if inst is None or inst.status != "active":
        return None
    ws = state.workspace(team_id)
    return ws.users.get(inst.bot_user_id) if ws else None


def _apply_response(state: EmulatorState, target: ResponseUrl, body: dict[str, Any]) -> Response:
    channel = state.channel(target.team_id, target.channel_id)
    bot = _bot_user(state, target.app_id, target.team_id)
    if channel is None:
        return _text(404, "channel_not_found")
    if bot is None:
        return _text(403, "action_prohibited")
    if body.get("delete_original"):
        if target.ephemeral_source:
            _drop_ephemeral(state, target)
            return _text(200, "ok")
        if target.message_ts is None:
            return _text(404, "message_not_found")
        try:
            delete_message(state, channel, target.message_ts)
        except SlackError as exc:
            return _text(404, exc.error)
        return _text(200, "ok")
    content = _content(body)
    if isinstance(content, str):
        return _text(400, content)
    text, blocks, attachments = content
    if body.get("replace_original") and target.message_ts is not None:
        if target.ephemeral_source:
            _replace_ephemeral(state, target, text, blocks)
            return _text(200, "ok")
        try:
            edit_message(
                state,
                channel,
                target.message_ts,
                bot,
                text=text,
                blocks=blocks,
                attachments=attachments,
            )
        except SlackError as exc:
            return _text(404, exc.error)
        return _text(200, "ok")
    thread_ts = _thread_ts(body)
    if body.get("response_type") == "in_channel":
        return _post_as_app(state, channel, bot, content, thread_ts)
    post_ephemeral(
        state,
        channel,
        target.user_id,
        bot,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
    )
    return _text(200, "ok")


def _find_ephemeral(state: EmulatorState, target: ResponseUrl) -> dict[str, Any] | None:
    return next(
        (
            e
            for e in reversed(state.ephemerals)
            if e.get("ts") == target.message_ts and e.get("channel_id") == target.channel_id
        ),
        None,
    )


def _drop_ephemeral(state: EmulatorState, target: ResponseUrl) -> None:
    found = _find_ephemeral(state, target)
    if found is not None:
        state.ephemerals.remove(found)


def _replace_ephemeral(
    state: EmulatorState, target: ResponseUrl, text: str, blocks: list[Any] | None
) -> None:
    found = _find_ephemeral(state, target)
    if found is not None:
        message = dict(found.get("message") or {})
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        found["message"] = message


def _state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.outbound.state)


async def _response_url(request: Request) -> Response:
    state = _state(request)
    store = cast(ResponseUrls, request.app.state.outbound.responses)
    target = store.get(request.path_params["url_id"])
    if target is None:
        return _text(404, "no_service")
    if state.now() > target.expires_at:
        return _text(404, "expired_url")
    if target.uses >= RESPONSE_URL_USES:
        return _text(404, "used_url")
    body = await _read_message(request)
    if body is None:
        return _text(400, "invalid_payload")
    target.uses += 1
    return _apply_response(state, target, body)


async def _incoming_webhook(request: Request) -> Response:
    state = _state(request)
    p = request.path_params
    found = find_incoming_webhook(state, p["team_id"], p["hook_id"], p["secret"])
    if found is None:
        return _text(404, "no_service")
    inst, hook = found
    if inst.status != "active":
        return _text(403, "action_prohibited")
    body = await _read_message(request)
    if body is None:
        return _text(400, "invalid_payload")
    content = _content(body)
    if isinstance(content, str):
        return _text(400, content)
    channel = state.channel(inst.team_id, hook["channel_id"])
    if channel is None:
        return _text(404, "channel_not_found")
    if channel.is_archived:
        return _text(410, "channel_is_archived")
    retry_after = state.rate_limiter.check_post(
        inst.app_id, inst.team_id, channel.id, enforce=state.rate_limits_enabled
    )
    if retry_after:
        return PlainTextResponse(
            "rate_limited", status_code=429, headers={"Retry-After": str(retry_after)}
        )
    bot = _bot_user(state, inst.app_id, inst.team_id)
    if bot is None:
        return _text(403, "action_prohibited")
    # An app's webhook posts as the app; channel/username/icon overrides are ignored. Slack
    # marks webhook posts ``bot_message`` (posts with the bot token carry no subtype).
    return _post_as_app(state, channel, bot, content, _thread_ts(body), subtype="bot_message")


def routes() -> list[BaseRoute]:
    """The response_url and incoming-webhook endpoints."""
    return [
        Route("/_emulator/response/{url_id:path}", _response_url, methods=["POST"]),
        Route("/services/{team_id}/{hook_id}/{secret}", _incoming_webhook, methods=["POST"]),
    ]
