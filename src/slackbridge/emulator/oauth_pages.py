"""The OAuth consent page (``/oauth/v2/authorize``, legacy ``/oauth/authorize``, and Sign in
with Slack's ``/openid/connect/authorize``) and its scripted twin ``POST /_emulator/oauth/approve``.

The page lets a person pick a workspace and the user installing, then Allow or Cancel; it
redirects to the app's ``redirect_uri`` with ``code`` and ``state`` or with
``error=access_denied``. A bad ``client_id`` or a ``redirect_uri`` that is not one of the app's
redirect URLs (or below one) is shown as an error page (HTTP 400), never redirected to.
Codes are single use and valid for 10 minutes.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.control_common import ControlError, endpoint, read_body
from slackbridge.emulator.installs import SLACKBOT, install_refusal
from slackbridge.emulator.manifest import is_http_url
from slackbridge.emulator.state import App, EmulatorState, OAuthCode, User, Workspace

__all__ = [
    "CODE_LIFETIME",
    "AuthorizeError",
    "AuthorizeRequest",
    "approve",
    "parse_authorize",
    "redirect_allowed",
    "routes",
]

CODE_LIFETIME = 600.0  # seconds an authorization code stays valid (Slack: 10 minutes)
OPENID = 3  # the "version" of a Sign in with Slack request (/openid/connect/authorize)
OPENID_SCOPES = ("openid", "profile", "email")
_PATHS = {"/oauth/v2/authorize": 2, "/oauth/authorize": 1, "/openid/connect/authorize": OPENID}
_SCOPE = re.compile(r"^[a-z]+(?:[._:-][a-z]+)*$")


class AuthorizeError(Exception):
    """A request the consent page refuses (shown as an error page, not redirected)."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


@dataclass
class AuthorizeRequest:
    app: App
    version: int
    scopes: list[str]
    user_scopes: list[str]
    redirect_uri: str | None  # as given in the URL (the exchange must repeat it)
    target: str  # where to send the browser back
    state: str | None
    team: str | None
    nonce: str | None = None


def redirect_allowed(app: App, uri: str) -> bool:
    """Slack accepts a redirect URI equal to, or below, one of the app's redirect URLs."""
    if not isinstance(uri, str) or not is_http_url(uri):
        return False
    got = urlsplit(uri)
    for allowed in app.redirect_urls:
        want = urlsplit(allowed)
        if (got.scheme, got.netloc.lower()) != (want.scheme, want.netloc.lower()):
            continue
        base = want.path.rstrip("/")
        if got.path == want.path or got.path.rstrip("/") == base or got.path.startswith(base + "/"):
            return True
    return False


def _scopes(raw: str | None) -> list[str]:
    items = [s for s in re.split(r"[,\s]+", raw or "") if s]
    bad = [s for s in items if not _SCOPE.match(s)]
    if bad:
        raise AuthorizeError("invalid_scope", f"Invalid permissions requested: {bad[0]}")
    return list(dict.fromkeys(items))


def parse_authorize(state: EmulatorState, params: dict[str, str], version: int) -> AuthorizeRequest:
    """Check an authorize request's parameters as Slack does before showing consent."""
    client_id = params.get("client_id", "")
    app = state.app_by_client_id(client_id) if client_id else None
    if app is None:
        raise AuthorizeError("invalid_client_id", "Invalid client_id parameter")
    redirect_uri = params.get("redirect_uri") or None
    if redirect_uri is not None:
        if not redirect_allowed(app, redirect_uri):
            raise AuthorizeError(
                "bad_redirect_uri",
                f"redirect_uri did not match any configured URIs. Passed URI: {redirect_uri}",
            )
        target = redirect_uri
    elif app.redirect_urls:
        target = app.redirect_urls[0]
    else:
        raise AuthorizeError("bad_redirect_uri", "The app has no redirect URL configured")
    scopes = _scopes(params.get("scope"))
    user_scopes = _scopes(params.get("user_scope"))
    if version == OPENID:
        # Sign in with Slack: response_type=code and the openid scope, plus profile/email.
        if params.get("response_type", "code") != "code":
            raise AuthorizeError("invalid_request", "response_type must be code")
        if "openid" not in scopes:
            raise AuthorizeError("invalid_scope", "The openid scope is required")
        extra = [s for s in scopes if s not in OPENID_SCOPES]
        if extra:
            raise AuthorizeError("invalid_scope", f"Invalid permissions requested: {extra[0]}")
        scopes, user_scopes = [], scopes
    if version == 2 and not scopes and not user_scopes:
        scopes, user_scopes = list(app.bot_scopes), list(app.user_scopes)
    if not scopes and not user_scopes:
        raise AuthorizeError("invalid_scope", "No permissions requested")
    team = params.get("team") or None
    if team is not None and team not in state.workspaces:
        raise AuthorizeError("invalid_team", f"Unknown team {team}")
    return AuthorizeRequest(
        app=app,
        version=version,
        scopes=scopes,
        user_scopes=user_scopes,
        redirect_uri=redirect_uri,
        target=target,
        state=params.get("state"),
        team=team,
        nonce=params.get("nonce") or None,
    )


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _installer(state: EmulatorState, req: AuthorizeRequest, team_id: str, user_id: str) -> User:
    if req.team is not None and team_id != req.team:
        raise AuthorizeError("invalid_team", f"This link installs into {req.team} only")
    ws = state.workspace(team_id)
    if ws is None:
        raise AuthorizeError("invalid_team", f"Unknown team {team_id}")
    user = ws.users.get(user_id)
    refusal = install_refusal(state, req.app, team_id, user_id)
    if refusal == "invalid_team_for_non_distributed_app":
        raise AuthorizeError(
            refusal,
            f"{req.app.name} is not distributed: it installs only in its own workspace "
            f"({req.app.owner_team_id})",
        )
    if user is None or refusal is not None:
        raise AuthorizeError("invalid_user", f"No person {user_id} in {team_id} can install apps")
    return user


def approve(
    state: EmulatorState,
    req: AuthorizeRequest,
    team_id: str,
    user_id: str,
    *,
    deny: bool = False,
    channel_id: str | None = None,
) -> str:
    """The URL the browser is sent back to after Allow (a fresh code) or Cancel."""
    _installer(state, req, team_id, user_id)
    extra: dict[str, str] = {}
    if deny:
        extra["error"] = "access_denied"
    else:
        if channel_id is not None and state.channel(team_id, channel_id) is None:
            raise AuthorizeError("channel_not_found", f"No channel {channel_id} in {team_id}")
        code = f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(32)}"
        state.oauth_codes[code] = OAuthCode(
            code=code,
            app_id=req.app.id,
            team_id=team_id,
            user_id=user_id,
            redirect_uri=req.redirect_uri,
            scopes=req.scopes,
            user_scopes=req.user_scopes,
            expires_at=state.now() + CODE_LIFETIME,
            incoming_webhook_channel=channel_id,
            version=req.version,
            nonce=req.nonce,
        )
        extra["code"] = code
    if req.state is not None:
        extra["state"] = req.state
    return _with_query(req.target, extra)


# --- pages ------------------------------------------------------------------------------------

_STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f4ede4;margin:0;
color:#1d1c1d}
.card{max-width:520px;margin:48px auto;background:#fff;border-radius:12px;padding:32px 36px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:22px;margin:0 0 6px}.muted{color:#616061;font-size:14px}
.app{display:flex;align-items:center;gap:12px;margin-bottom:18px}
.logo{width:48px;height:48px;border-radius:10px;background:#4a154b;color:#fff;display:flex;
align-items:center;justify-content:center;font-weight:700;font-size:22px}
label{display:block;font-weight:600;margin:18px 0 6px;font-size:14px}
select{width:100%;padding:8px;border:1px solid #bbb;border-radius:6px;font-size:15px}
ul{padding-left:20px;font-size:14px;line-height:1.6}code{background:#f1f1f1;padding:1px 4px;
border-radius:3px}
.buttons{display:flex;gap:12px;justify-content:flex-end;margin-top:26px}
button{font-size:15px;font-weight:700;padding:9px 18px;border-radius:6px;cursor:pointer;
border:1px solid #bbb;background:#fff}
button.allow{background:#007a5a;border-color:#007a5a;color:#fff}
.error{border-left:4px solid #e01e5a;padding-left:14px}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><div class=card>{body}</div></body></html>"
    )
    return HTMLResponse(doc, status_code=status)


def _error_page(err: AuthorizeError) -> HTMLResponse:
    body = (
        "<div class=error><h1>Something went wrong when authorizing this app.</h1>"
        f"<p class=muted>Error: <code>{html.escape(err.error)}</code></p>"
        f"<p>{html.escape(err.detail)}</p></div>"
    )
    return _page("Authorization error", body, status=400)


def _people(ws: Workspace) -> list[User]:
    return sorted(
        (u for u in ws.users.values() if not u.is_bot and not u.deleted and u.id != SLACKBOT),
        key=lambda u: u.name,
    )


def _consent_page(state: EmulatorState, req: AuthorizeRequest, params: dict[str, str]) -> Response:
    app = req.app
    teams = [state.workspaces[req.team]] if req.team else list(state.workspaces.values())
    if app.owner_team_id is not None and not app.distributed:
        # Slack offers a non-distributed app only to its own workspace.
        teams = [ws for ws in teams if ws.id == app.owner_team_id] or teams
    options = []
    for ws in teams:
        people = "".join(
            f'<option value="{html.escape(ws.id)}:{html.escape(u.id)}">'
            f"{html.escape(u.real_name or u.name)} (@{html.escape(u.name)})</option>"
            for u in _people(ws)
        )
        options.append(f'<optgroup label="{html.escape(ws.name)}">{people}</optgroup>')
    hidden = "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in req.scopes)
    user_scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in req.user_scopes)
    channel_picker = ""
    if "incoming-webhook" in req.scopes:
        channels = "".join(
            f'<option value="{html.escape(c.id)}">{html.escape(ws.name)} · #{html.escape(c.name)}'
            "</option>"
            for ws in teams
            for c in ws.channels.values()
            if c.kind in ("public", "private") and not c.is_archived
        )
        channel_picker = (
            "<label for=channel>Post to</label>"
            f"<select id=channel name=channel_id>{channels}</select>"
        )
    heading = (
        f"Sign in to {html.escape(app.name)} with Slack"
        if req.version == OPENID
        else f"{html.escape(app.name)} is requesting permission"
    )
    body = (
        f"<div class=app><div class=logo>{html.escape(app.name[:1].upper() or 'A')}</div><div>"
        f"<h1>{heading}</h1>"
        "<div class=muted>to access a workspace on this Slack emulator</div></div></div>"
        f'<form method=post action="">{hidden}'
        "<label for=installer>Workspace and user installing</label>"
        f"<select id=installer name=installer>{''.join(options)}</select>"
        + (f"<label>The app will be able to</label><ul>{scopes}</ul>" if scopes else "")
        + (
            f"<label>On your behalf it will be able to</label><ul>{user_scopes}</ul>"
            if user_scopes
            else ""
        )
        + channel_picker
        + "<div class=buttons><button name=decision value=deny>Cancel</button>"
        "<button class=allow name=decision value=allow>Allow</button></div></form>"
    )
    return _page(f"Install {app.name}", body)


def _state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.emulator)


def _version(request: Request) -> int:
    return _PATHS.get(request.url.path.rstrip("/"), 1)


async def _authorize_get(request: Request) -> Response:
    params = dict(request.query_params)
    try:
        req = parse_authorize(_state(request), params, _version(request))
    except AuthorizeError as err:
        return _error_page(err)
    return _consent_page(_state(request), req, params)


async def _authorize_post(request: Request) -> Response:
    # Closing the form releases any uploaded parts (a browser never sends them; a script may).
    async with request.form() as form:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    decision = fields.pop("decision", "deny")
    installer = fields.pop("installer", "")
    channel_id = fields.pop("channel_id", None) or None
    state = _state(request)
    try:
        req = parse_authorize(state, fields, _version(request))
        team_id, _, user_id = installer.partition(":")
        target = approve(
            state, req, team_id, user_id, deny=decision != "allow", channel_id=channel_id
        )
    except AuthorizeError as err:
        return _error_page(err)
    return RedirectResponse(target, status_code=302)


async def _approve_endpoint(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    url, team_id, user_id = body.get("authorize_url"), body.get("team_id"), body.get("user_id")
    if not (isinstance(url, str) and isinstance(team_id, str) and isinstance(user_id, str)):
        raise ControlError(
            "invalid_arguments", "authorize_url, team_id and user_id: required strings"
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" in the host
        parts = None
    if parts is None or parts.path.rstrip("/") not in _PATHS:
        raise ControlError(
            "invalid_authorize_url",
            "authorize_url: an /oauth/v2/authorize or /openid/connect/authorize link",
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    version = _PATHS[parts.path.rstrip("/")]
    channel_id = body.get("channel_id")
    state = _state(request)
    try:
        req = parse_authorize(state, params, version)
        target = approve(
            state,
            req,
            team_id,
            user_id,
            deny=bool(body.get("deny", False)),
            channel_id=channel_id if isinstance(channel_id, str) else None,
        )
    except AuthorizeError as err:
        raise ControlError(err.error, err.detail, 400) from None
    return {"redirect_url": target}


def routes() -> list[BaseRoute]:
    """The consent pages and the scripted approval endpoint."""
    return [
        Route("/oauth/v2/authorize", _authorize_get, methods=["GET"]),
        Route("/oauth/v2/authorize", _authorize_post, methods=["POST"]),
        Route("/oauth/authorize", _authorize_get, methods=["GET"]),
        Route("/oauth/authorize", _authorize_post, methods=["POST"]),
        Route("/openid/connect/authorize", _authorize_get, methods=["GET"]),
        Route("/openid/connect/authorize", _authorize_post, methods=["POST"]),
        Route("/_emulator/oauth/approve", endpoint(_approve_endpoint), methods=["POST"]),
    ]
