"""The console's "Sign in with Slack" (OpenID Connect), and who is signed in.

The browser goes to Slack's ``/openid/connect/authorize`` (scopes ``openid email profile``, a
``state`` kept here and a ``nonce``), comes back with a code, which is exchanged with
``openid.connect.token`` (the app's client id and secret); the person's claims come from
``openid.connect.userInfo`` with the token it gave. The id_token came straight from Slack over
the back channel, so its signature is not checked here, but its ``nonce`` and ``aud`` are.
A signed-in operator is a random session id in an HttpOnly cookie.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

__all__ = ["SESSION_COOKIE", "Operator", "SignIn", "SignInError", "SlackOidc"]

SESSION_COOKIE = "livechat_session"
_STATE_LIFETIME = 600.0
_SCOPES = "openid email profile"


class SignInError(Exception):
    """Sign in did not work; the message says why (shown to the person)."""


@dataclass(frozen=True)
class SlackOidc:
    """Where Slack is and the app's credentials."""

    slack_url: str  # https://slack.com (the authorize page)
    slack_api_url: str  # https://slack.com/api/
    client_id: str
    client_secret: str = field(repr=False)  # a credential: never in a repr or a log


@dataclass(frozen=True)
class Operator:
    """Someone signed in to the console."""

    user_id: str
    team_id: str
    name: str
    email: str | None
    picture: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "team_id": self.team_id,
            "name": self.name,
            "email": self.email,
            "picture": self.picture,
        }


def _claims_of(id_token: str) -> dict[str, Any]:
    try:
        payload = id_token.split(".")[1]
        decoded = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise SignInError("Slack's id_token could not be read") from exc
    if not isinstance(decoded, dict):
        raise SignInError("Slack's id_token could not be read")
    return decoded


class SignIn:
    """Pending sign-ins (state → nonce) and signed-in operators (session id → operator)."""

    def __init__(self, oidc: SlackOidc | None, http: httpx.AsyncClient) -> None:
        self.oidc = oidc
        self._http = http
        self._pending: dict[str, tuple[str, float]] = {}
        self.sessions: dict[str, Operator] = {}

    def authorize_url(self, redirect_uri: str) -> str:
        if self.oidc is None:
            raise SignInError("Sign in with Slack is not configured (no client id and secret)")
        now = time.monotonic()
        self._pending = {s: v for s, v in self._pending.items() if now - v[1] < _STATE_LIFETIME}
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self._pending[state] = (nonce, now)
        query = urlencode(
            {
                "response_type": "code",
                "scope": _SCOPES,
                "client_id": self.oidc.client_id,
                "state": state,
                "nonce": nonce,
                "redirect_uri": redirect_uri,
            }
        )
        return f"{self.oidc.slack_url.rstrip('/')}/openid/connect/authorize?{query}"

    async def finish(self, params: Mapping[str, str], redirect_uri: str) -> str:
        """The callback: a new session id for the person who signed in."""
        if self.oidc is None:
            raise SignInError("Sign in with Slack is not configured")
        if params.get("error"):
            raise SignInError(f"Slack said: {params['error']}")
        pending = self._pending.pop(params.get("state", ""), None)
        if pending is None or time.monotonic() - pending[1] >= _STATE_LIFETIME:
            raise SignInError("this sign-in link is unknown or too old: sign in again")
        code = params.get("code")
        if not code:
            raise SignInError("Slack sent no code")
        api = self.oidc.slack_api_url.rstrip("/") + "/"
        token = await self._slack(
            f"{api}openid.connect.token",
            data={
                "client_id": self.oidc.client_id,
                "client_secret": self.oidc.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
                "grant_type": "authorization_code",
            },
        )
        claims = _claims_of(str(token.get("id_token") or ""))
        if claims.get("nonce") != pending[0] or claims.get("aud") != self.oidc.client_id:
            raise SignInError("Slack's id_token is not for this sign-in")
        info = await self._slack(
            f"{api}openid.connect.userInfo",
            headers={"Authorization": f"Bearer {token.get('access_token')}"},
        )
        user_id = info.get("https://slack.com/user_id") or info.get("sub")
        team_id = info.get("https://slack.com/team_id")
        if not isinstance(user_id, str) or not isinstance(team_id, str):
            raise SignInError("Slack did not say who signed in")
        operator = Operator(
            user_id=user_id,
            team_id=team_id,
            name=str(info.get("name") or user_id),
            email=info.get("email") if isinstance(info.get("email"), str) else None,
            picture=info.get("picture") if isinstance(info.get("picture"), str) else None,
        )
        session = secrets.token_urlsafe(24)
        self.sessions[session] = operator
        return session

    async def _slack(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._http.post(url, data=data, headers=headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInError(f"Slack did not answer: {exc}") from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else response.status_code
            raise SignInError(f"Slack refused the sign-in: {error}")
        return answer

    def operator(self, session: str | None) -> Operator | None:
        return self.sessions.get(session or "")

    def sign_out(self, session: str | None) -> None:
        self.sessions.pop(session or "", None)
