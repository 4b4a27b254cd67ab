"""``/api/{method}``: read arguments, authenticate, check scopes, rate limit, run, answer as Slack.

Slack answers every call with HTTP 200 and ``{"ok": …}`` except over a rate limit (HTTP 429 with
``Retry-After``). Arguments come from the query string merged with a form body
(``application/x-www-form-urlencoded``, ``multipart/form-data`` or ``text/plain``) or a JSON
body; with JSON (and for app-level tokens) the token must be in the ``Authorization: Bearer``
header, as Slack requires.
Nothing here ever answers with a traceback: an unexpected exception is logged and answered with
``{"ok": false, "error": "internal_error"}``.

Faults (``POST /_emulator/faults`` with ``method``) apply before anything else: ``latency``
delays the answer, ``status`` answers that HTTP status, ``error`` answers that Slack error, and
``drop`` breaks the connection mid-answer (clients see a truncated response), and
``events_first`` holds a successful answer until the events the call caused have had their
first delivery attempt (bounded by :data:`EVENTS_FIRST_WAIT` seconds).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from slackbridge.emulator.capture import capture_event_deliveries
from slackbridge.emulator.faults import Fault
from slackbridge.emulator.state import EmulatorState, Token
from slackbridge.emulator.webapi.registry import REGISTRY, CallContext, MethodSpec, SlackError

__all__ = ["EVENTS_FIRST_WAIT", "api_endpoint", "json_response"]

_log = logging.getLogger("slackbridge.emulator.webapi")
_JSON = "application/json; charset=utf-8"
EVENTS_FIRST_WAIT = 30.0  # real seconds an events_first answer waits for the deliveries, at most


def json_response(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(payload), status_code=status, headers=headers, media_type=_JSON)


class _DroppedResponse(Response):
    """Promises a body and breaks off: the client sees the connection fail mid-answer."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", _JSON.encode()), (b"content-length", b"1024")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"ok":', "more_body": False})


async def _apply_fault(state: EmulatorState, fault: Fault) -> Response | None:
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.drop:
        return _DroppedResponse()
    if fault.status is not None:
        if fault.status == 429:
            state.rate_limiter.usage.fault_429s += 1
        headers = {}
        if fault.status == 429 or fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        default = "ratelimited" if fault.status == 429 else "fatal_error"
        return json_response(
            {"ok": False, "error": fault.error or default}, status=fault.status, headers=headers
        )
    if fault.error:
        return json_response({"ok": False, "error": fault.error})
    return None


def _content_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    main, _, rest = raw.partition(";")
    params = {}
    for part in rest.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), params


async def _read_args(request: Request, warnings: list[str]) -> tuple[dict[str, Any], bool]:
    """The call's arguments, and whether a ``token`` argument may be honoured (not for JSON)."""
    args: dict[str, Any] = dict(request.query_params) if request.url.query else {}
    if request.method != "POST":
        return args, True
    mime, params = _content_type(request)
    if mime == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:  # a malformed multipart body (Starlette raises several kinds)
            raise SlackError("invalid_form_data") from None
        try:
            for key, value in form.multi_items():
                args[key] = (
                    value
                    if isinstance(value, str)
                    else (await value.read()).decode("utf-8", "replace")
                )
        finally:
            await form.close()
        return args, True
    body = await request.body()
    if not mime:
        if body.strip():
            raise SlackError("missing_post_type")
        return args, True
    if mime == "application/json":
        if "charset" not in params:
            warnings.append("missing_charset")
        if not body.strip():
            return args, False
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("json_not_object")
        args.update(data)
        return args, False
    if mime in {"application/x-www-form-urlencoded", "text/plain"}:
        if "charset" in params and mime != "text/plain":
            warnings.append("superfluous_charset")
        try:
            text = body.decode(params.get("charset", "utf-8"))
        except (LookupError, UnicodeDecodeError):
            raise SlackError("invalid_charset") from None
        try:
            args.update(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
        except ValueError:
            raise SlackError("invalid_form_data") from None
        return args, True
    raise SlackError("invalid_post_type")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _authenticate(state: EmulatorState, spec: MethodSpec, raw: str | None) -> Token:
    if not raw:
        raise SlackError("not_authed")
    token = state.tokens.get(raw)
    if token is None:
        app_token = state.app_tokens.get(raw)
        if app_token is not None:
            token = Token(
                token=raw,
                kind="app",
                team_id=None,
                user_id=None,
                app_id=app_token.app_id,
                scopes=list(app_token.scopes),
            )
    if token is None:
        raise SlackError("invalid_auth")
    wanted = {"token": ("bot", "user"), "app": ("app",), "config": ("config",)}[spec.auth]
    if token.kind not in wanted:
        raise SlackError("not_allowed_token_type")
    if token.revoked:
        raise SlackError("token_revoked")
    if token.expires_at is not None and state.now() >= token.expires_at:
        raise SlackError("token_expired")
    if token.installation_key is not None:
        inst = state.installations.get(token.installation_key)
        if inst is not None and inst.status == "uninstalled":
            # Slack: a removed app's bot token is for an inactive account; user tokens are
            # revoked. Revoking only the bot token (status "revoked") leaves the people's tokens
            # alive: each token's own ``revoked`` flag decides, above.
            raise SlackError("account_inactive" if token.kind == "bot" else "token_revoked")
    if token.kind == "user" and token.user_id:
        user = state.user(token.user_id)
        if user is not None and user.deleted:
            raise SlackError("account_inactive")
    return token


def _check_scopes(spec: MethodSpec, token: Token) -> None:
    if spec.scopes and not any(scope in token.scopes for scope in spec.scopes):
        raise SlackError(
            "missing_scope", needed=",".join(spec.scopes), provided=",".join(token.scopes)
        )


def _rate_limit(
    state: EmulatorState, spec: MethodSpec, token: Token | None, args: dict[str, Any]
) -> int:
    if spec.tier is None:
        return 0
    enforce = state.rate_limits_enabled  # off: the call is only recorded (usage report)
    app_id = (token.app_id if token else None) or "-"
    team_id = (token.team_id if token else None) or "-"
    if spec.tier == "post":
        channel = _channel_key(state, team_id, str(args.get("channel", "")))
        return state.rate_limiter.check_post(app_id, team_id, channel, enforce=enforce)
    return state.rate_limiter.check_method(spec.name, spec.tier, app_id, team_id, enforce=enforce)


def _channel_key(state: EmulatorState, team_id: str, ref: str) -> str:
    """The channel id behind ``#name``/``name``, so both spellings share one bucket."""
    ws = state.workspaces.get(team_id)
    if ws is None or not ref or ref in ws.channels:
        return ref
    channel = ws.channel_named(ref)
    return channel.id if channel is not None else ref


def _scope_headers(spec: MethodSpec, token: Token | None) -> dict[str, str]:
    """Slack's ``X-OAuth-Scopes`` (what the token holds) and ``X-Accepted-OAuth-Scopes`` (what
    the method accepts), on every answer to an authenticated call; Bolt reads them."""
    if token is None:
        return {}
    return {
        "X-OAuth-Scopes": ",".join(token.scopes),
        "X-Accepted-OAuth-Scopes": ",".join(spec.scopes),
    }


def _finish(
    payload: dict[str, Any], warnings: list[str], headers: dict[str, str] | None = None
) -> Response:
    if warnings:
        payload["warning"] = ",".join(warnings)
        meta = payload.setdefault("response_metadata", {})
        meta.setdefault("warnings", []).extend(warnings)
    return json_response(payload, headers=headers)


async def _dispatch(state: EmulatorState, name: str, request: Request) -> Response:
    spec = REGISTRY.get(name)
    if spec is None:
        return json_response({"ok": False, "error": "unknown_method", "req_method": name})
    fault = state.faults.match_method(name)
    if fault is not None:
        faulted = await _apply_fault(state, fault)
        if faulted is not None:
            return faulted
    warnings: list[str] = []
    token: Token | None = None
    try:
        args, token_arg_ok = await _read_args(request, warnings)
        # Slack takes an app-level token only in the Authorization header: as a POST
        # parameter it is an error (apps.connections.open's documentation says so).
        token_arg_ok = token_arg_ok and spec.auth != "app"
        raw = _bearer(request) or (str(args.get("token") or "") if token_arg_ok else None)
        if spec.auth != "none":
            token = _authenticate(state, spec, raw)
            _check_scopes(spec, token)
        retry_after = _rate_limit(state, spec, token, args)
        if retry_after:
            return json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after), **_scope_headers(spec, token)},
            )
        ctx = CallContext(state=state, args=args, token=token, request=request, warnings=warnings)
        if fault is not None and fault.events_first:
            with capture_event_deliveries() as waiters:
                result = await spec.handler(ctx)
            await _wait_all(waiters)
        else:
            result = await spec.handler(ctx)
    except SlackError as exc:
        headers = _scope_headers(spec, token)
        return _finish({"ok": False, "error": exc.error, **exc.extra}, warnings, headers)
    return _finish({"ok": True, **result}, warnings, _scope_headers(spec, token))


async def _wait_all(waiters: list[asyncio.Event]) -> None:
    """Wait (bounded) until every captured event delivery has had its first attempt."""
    if not waiters:
        return
    try:
        async with asyncio.timeout(EVENTS_FIRST_WAIT):
            for waiter in waiters:
                await waiter.wait()
    except TimeoutError:
        _log.warning("emulator: events_first answer sent before its events were delivered")


async def api_endpoint(request: Request) -> Response:
    """The Starlette endpoint for ``/api/{method}`` (GET and POST)."""
    state: EmulatorState = request.app.state.emulator
    if state.base_url is None:
        state.base_url = str(request.base_url).rstrip("/")
    name = request.path_params["method"]
    try:
        return await _dispatch(state, name, request)
    except Exception:
        _log.exception("emulator: Web API method %s failed", name)
        return json_response({"ok": False, "error": "internal_error"})
