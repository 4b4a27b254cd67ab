"""Sign in with Slack (OpenID Connect): the claims about a person, id_tokens signed as Slack
signs them (RS256, a ``kid`` from the key set), the key set and the discovery document.

Slack's issuer is ``https://slack.com``; its id_token carries ``iss``, ``sub`` (the user id),
``aud`` (the app's client id), ``exp``, ``iat``, ``auth_time``, ``nonce`` (when the authorize
request had one) and the person's claims: ``https://slack.com/user_id``,
``https://slack.com/team_id``, and with the ``email`` scope ``email``, ``email_verified``,
``date_email_verified``; with ``profile`` ``name``, ``picture``, ``given_name``,
``family_name``, ``locale``, ``https://slack.com/team_name``, ``…/team_domain`` and the user
and team image URLs. ``openid.connect.userInfo`` answers the same claims.
The emulator's key pair is made on first use and published at ``/openid/connect/keys``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, cast

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.ops_common import base_url
from slackbridge.emulator.state import EmulatorState, User, Workspace

__all__ = ["ISSUER", "claims", "id_token", "jwks", "routes"]

ISSUER = "https://slack.com"
ID_TOKEN_LIFETIME = 3600  # seconds
_USER_IMAGES = (24, 32, 48, 72, 192, 512, 1024)
_TEAM_IMAGES = (34, 44, 68, 88, 102, 132, 230)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key(state: EmulatorState) -> rsa.RSAPrivateKey:
    if state.oidc_key is None:
        state.oidc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return cast(rsa.RSAPrivateKey, state.oidc_key)


def _kid(key: rsa.RSAPrivateKey) -> str:
    numbers = key.public_key().public_numbers()
    return hashlib.sha256(numbers.n.to_bytes(256, "big")).hexdigest()[:16]


def jwks(state: EmulatorState) -> dict[str, Any]:
    """The JSON Web Key Set with the emulator's signing key."""
    key = _key(state)
    numbers = key.public_key().public_numbers()
    return {
        "keys": [
            {
                "e": _b64(numbers.e.to_bytes(3, "big")),
                "n": _b64(numbers.n.to_bytes(256, "big")),
                "kty": "RSA",
                "kid": _kid(key),
                "alg": "RS256",
                "use": "sig",
            }
        ]
    }


def claims(ws: Workspace, user: User, scopes: list[str]) -> dict[str, Any]:
    """What Slack says about ``user`` to an app holding ``scopes`` (openid, email, profile)."""
    out: dict[str, Any] = {
        "sub": user.id,
        "https://slack.com/user_id": user.id,
        "https://slack.com/team_id": ws.id,
    }
    if "email" in scopes and user.email:
        out.update(email=user.email, email_verified=True, date_email_verified=1_700_000_000)
    if "profile" in scopes:
        first, _, last = user.real_name.partition(" ")
        out.update(
            name=user.real_name or user.name,
            picture=user.avatar(512),
            given_name=first,
            family_name=last,
            locale="en-US",
        )
        out["https://slack.com/team_name"] = ws.name
        out["https://slack.com/team_domain"] = ws.domain
        for size in _USER_IMAGES:
            out[f"https://slack.com/user_image_{size}"] = user.avatar(size)
        for size in _TEAM_IMAGES:
            out[f"https://slack.com/team_image_{size}"] = (
                f"https://avatars.slack-edge.example/{ws.id}_{size}.png"
            )
        out["https://slack.com/team_image_default"] = True
    return out


def id_token(
    state: EmulatorState,
    *,
    client_id: str,
    ws: Workspace,
    user: User,
    scopes: list[str],
    nonce: str | None,
) -> str:
    """A signed (RS256) id_token for ``user``, as ``openid.connect.token`` returns it."""
    key = _key(state)
    now = int(state.now())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": client_id,
        "exp": now + ID_TOKEN_LIFETIME,
        "iat": now,
        "auth_time": now,
    }
    if nonce is not None:
        payload["nonce"] = nonce
    payload.update(claims(ws, user, scopes))
    header = {"typ": "JWT", "alg": "RS256", "kid": _kid(key)}
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.emulator)


async def _keys(request: Request) -> JSONResponse:
    return JSONResponse(jwks(_state(request)))


async def _discovery(request: Request) -> JSONResponse:
    state = _state(request)
    if state.base_url is None:
        state.base_url = str(request.base_url).rstrip("/")
    base = base_url(state)
    return JSONResponse(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{base}/openid/connect/authorize",
            "token_endpoint": f"{base}/api/openid.connect.token",
            "userinfo_endpoint": f"{base}/api/openid.connect.userInfo",
            "jwks_uri": f"{base}/openid/connect/keys",
            "scopes_supported": ["openid", "profile", "email"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "auth_time", "iss"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }
    )


def routes() -> list[BaseRoute]:
    """The key set and the discovery document."""
    return [
        Route("/openid/connect/keys", _keys, methods=["GET"]),
        Route("/.well-known/openid-configuration", _discovery, methods=["GET"]),
    ]
