"""``apps.manifest.*`` (configuration token), ``apps.connections.open`` (app-level token) and
``apps.uninstall``.

Setting an events request URL over HTTP runs Slack's url_verification handshake against it: a
signed POST ``{"token", "challenge", "type": "url_verification"}`` that must answer 200 with the
challenge (as plain text or as ``{"challenge": …}``); otherwise the call fails with
``invalid_manifest`` pointing at the URL, as Slack does.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlencode

from slackbridge.emulator.installs import uninstall
from slackbridge.emulator.manifest import (
    ManifestError,
    ParsedManifest,
    apply_manifest,
    create_app,
    export_manifest,
    parse_manifest,
)
from slackbridge.emulator.ops import base_url
from slackbridge.emulator.outbound import outbound_of
from slackbridge.emulator.state import App, EmulatorState
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__ = ["authorize_url", "verify_request_url"]

_URL_POINTER = "/settings/event_subscriptions/request_url"


def authorize_url(state: EmulatorState, app: App) -> str:
    """The "Add to Slack" link for ``app`` on this emulator."""
    query = urlencode(
        {
            "client_id": app.client_id,
            "scope": ",".join(app.bot_scopes),
            "user_scope": ",".join(app.user_scopes),
        },
        quote_via=lambda s, *_: quote(s, safe=",:."),
    )
    return f"{base_url(state)}/oauth/v2/authorize?{query}"


async def verify_request_url(ctx: CallContext, app: App, url: str) -> ManifestError | None:
    """Run the url_verification handshake; the manifest error to report when it fails."""
    challenge = secrets.token_urlsafe(36)
    result = await outbound_of(ctx.request).deliverer.call(
        app,
        "url_verification",
        app.owner_team_id,
        url=url,
        payload={
            "token": app.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        },
    )
    if result.error == "http_timeout":
        return ManifestError("Your URL didn't respond in time.", _URL_POINTER)
    if result.status is None:
        return ManifestError("We couldn't connect to your URL.", _URL_POINTER)
    answer = result.json()
    echoed = (isinstance(answer, dict) and answer.get("challenge") == challenge) or (
        result.body.decode(errors="replace").strip() == challenge
    )
    if result.status != 200 or not echoed:
        return ManifestError(
            "Your URL didn't respond with the value of the challenge parameter.", _URL_POINTER
        )
    return None


def _parse(ctx: CallContext) -> ParsedManifest:
    parsed, errors = parse_manifest(ctx.require("manifest"))
    if parsed is None:
        raise SlackError("invalid_manifest", errors=[e.as_dict() for e in errors])
    return parsed


def _owned_app(ctx: CallContext) -> App:
    app = ctx.state.apps.get(str(ctx.require("app_id")))
    if app is None:
        raise SlackError("invalid_app_id")
    return app


def _owner_team(ctx: CallContext) -> str | None:
    if ctx.token is not None and ctx.token.team_id:
        return ctx.token.team_id
    return next(iter(ctx.state.workspaces), None)


def _needs_handshake(parsed: ParsedManifest) -> bool:
    return bool(parsed.event_request_url) and not parsed.socket_mode


@method("apps.manifest.create", tier=1, auth="config")
async def _create(ctx: CallContext) -> dict[str, Any]:
    parsed = _parse(ctx)
    app = create_app(ctx.state, parsed, _owner_team(ctx))
    if _needs_handshake(parsed):
        assert parsed.event_request_url is not None
        failure = await verify_request_url(ctx, app, parsed.event_request_url)
        if failure is not None:
            del ctx.state.apps[app.id]
            raise SlackError("invalid_manifest", errors=[failure.as_dict()])
    return {
        "app_id": app.id,
        "credentials": {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "verification_token": app.verification_token,
            "signing_secret": app.signing_secret,
        },
        "oauth_authorize_url": authorize_url(ctx.state, app),
    }


@method("apps.manifest.update", tier=1, auth="config")
async def _update(ctx: CallContext) -> dict[str, Any]:
    app = _owned_app(ctx)
    parsed = _parse(ctx)
    url_changed = parsed.event_request_url != app.event_request_url or (
        app.socket_mode and not parsed.socket_mode
    )
    if _needs_handshake(parsed) and url_changed:
        assert parsed.event_request_url is not None
        # The handshake is signed with the app's (unchanged) signing secret.
        failure = await verify_request_url(ctx, app, parsed.event_request_url)
        if failure is not None:
            raise SlackError("invalid_manifest", errors=[failure.as_dict()])
    socket_mode_turned_off = app.socket_mode and not parsed.socket_mode
    permissions_updated = apply_manifest(app, parsed)
    if socket_mode_turned_off:
        await outbound_of(ctx.request).hub.disconnect(app.id, "link_disabled")
    return {"app_id": app.id, "permissions_updated": permissions_updated}


@method("apps.manifest.delete", tier=1, auth="config")
async def _delete(ctx: CallContext) -> dict[str, Any]:
    app = _owned_app(ctx)
    for (app_id, team_id), inst in list(ctx.state.installations.items()):
        if app_id == app.id and inst.status != "uninstalled":
            uninstall(ctx.state, app_id, team_id)
    for token in app.app_tokens:
        ctx.state.app_tokens.pop(token, None)
    await outbound_of(ctx.request).hub.disconnect(app.id, "link_disabled")
    del ctx.state.apps[app.id]
    return {}


@method("apps.manifest.validate", tier=3, auth="config")
async def _validate(ctx: CallContext) -> dict[str, Any]:
    if ctx.arg("app_id") is not None:
        _owned_app(ctx)
    _parse(ctx)
    return {}


@method("apps.manifest.export", tier=3, auth="config")
async def _export(ctx: CallContext) -> dict[str, Any]:
    return {"manifest": export_manifest(_owned_app(ctx))}


@method("apps.connections.open", tier=1, auth="app")
async def _connections_open(ctx: CallContext) -> dict[str, Any]:
    assert ctx.token is not None
    app = ctx.state.apps.get(ctx.token.app_id or "")
    if app is None:
        raise SlackError("invalid_auth")
    if not app.socket_mode:
        raise SlackError("socket_mode_not_enabled")
    ticket = outbound_of(ctx.request).hub.issue_ticket(app.id)
    # The host the caller used, so the link works from wherever the app runs.
    http_base = str(ctx.request.base_url).rstrip("/")
    ws_base = http_base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return {"url": f"{ws_base}/link/?ticket={ticket}&app_id={app.id}"}


@method("apps.uninstall", tier=1, auth="token")
async def _apps_uninstall(ctx: CallContext) -> dict[str, Any]:
    assert ctx.token is not None
    app = ctx.state.apps.get(ctx.token.app_id or "")
    if app is None or ctx.token.team_id is None:
        raise SlackError("invalid_auth")
    if ctx.arg("client_id") != app.client_id:
        raise SlackError("invalid_client_id")
    if ctx.arg("client_secret") != app.client_secret:
        raise SlackError("bad_client_secret")
    uninstall(ctx.state, app.id, ctx.token.team_id)
    return {}
