"""Sign in with Slack against the emulator with slack_sdk's WebClient, unchanged but for
``base_url``: the authorize page, openid_connect_token (a user token and an RS256 id_token that
verifies against the published key set) and openid_connect_userInfo."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.emulator.testing import make_test_app
from tests.conformance.conftest import ACME, ALICE, SDK_BASIC_AUTH_WARNING, Emulator

CALLBACK = "https://product.test/auth/slack/callback"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify(token: str, keys: dict[str, Any]) -> dict[str, Any]:
    """Check an id_token's RS256 signature against the key set; its claims."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_unb64(header_b64))
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    jwk = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(
        int.from_bytes(_unb64(jwk["e"]), "big"), int.from_bytes(_unb64(jwk["n"]), "big")
    ).public_key()
    public.verify(
        _unb64(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    claims: dict[str, Any] = json.loads(_unb64(payload_b64))
    return claims


async def _sign_in(emulator: Emulator, client_id: str, scope: str, nonce: str) -> str:
    """A person signs in through the authorize page (its form, as a browser posts it)."""
    query = urlencode(
        {
            "response_type": "code",
            "scope": scope,
            "client_id": client_id,
            "state": "st-1",
            "nonce": nonce,
            "redirect_uri": CALLBACK,
        }
    )
    page = await emulator.control.get(f"/openid/connect/authorize?{query}")
    assert page.status_code == 200 and "Sign in to" in page.text
    form = dict(parse_qs(query))
    fields = {k: v[0] for k, v in form.items()}
    fields.update(installer=f"{ACME}:{ALICE}", decision="allow")
    answer = await emulator.control.post(f"/openid/connect/authorize?{query}", data=fields)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    params = parse_qs(target.query)
    assert params["state"] == ["st-1"]
    return params["code"][0]


@pytest.mark.filterwarnings(SDK_BASIC_AUTH_WARNING)
@pytest.mark.parametrize("flavor", ["sync", "async"])
async def test_sign_in_with_slack(emulator: Emulator, flavor: str) -> None:
    app = make_test_app(emulator.state, name="Product", redirect_urls=[CALLBACK])
    code = await _sign_in(emulator, app.client_id, "openid email profile", "n-42")

    async def call(method: str, **kwargs: Any) -> Any:
        if flavor == "sync":
            sync = WebClient(base_url=emulator.api_url, timeout=10)
            return await asyncio.to_thread(getattr(sync, method), **kwargs)
        return await getattr(AsyncWebClient(base_url=emulator.api_url, timeout=10), method)(
            **kwargs
        )

    tokens = await call(
        "openid_connect_token",
        client_id=app.client_id,
        client_secret=app.client_secret,
        code=code,
        redirect_uri=CALLBACK,
    )
    assert tokens["ok"] is True and tokens["token_type"] == "Bearer"
    assert tokens["access_token"].startswith("xoxp-")
    keys = (await emulator.control.get("/openid/connect/keys")).json()
    claims = _verify(tokens["id_token"], keys)
    assert claims["iss"] == "https://slack.com"
    assert claims["aud"] == app.client_id and claims["sub"] == ALICE
    assert claims["nonce"] == "n-42"
    assert claims["exp"] > claims["iat"] >= claims["auth_time"] - 1
    assert claims["https://slack.com/user_id"] == ALICE
    assert claims["https://slack.com/team_id"] == ACME
    assert claims["email"] == "alice@acme.test" and claims["email_verified"] is True
    assert claims["name"] == "Alice Archer" and claims["picture"].startswith("https://")
    assert claims["https://slack.com/team_domain"] == "acme"

    info = await call("openid_connect_userInfo", token=tokens["access_token"])
    assert info["sub"] == ALICE and info["email"] == "alice@acme.test"
    assert info["https://slack.com/team_name"] == "Acme"
    assert info["given_name"] == "Alice" and info["family_name"] == "Archer"

    # Codes are single use.
    with pytest.raises(SlackApiError) as reused:
        await call(
            "openid_connect_token",
            client_id=app.client_id,
            client_secret=app.client_secret,
            code=code,
            redirect_uri=CALLBACK,
        )
    assert reused.value.response["error"] == "invalid_code"


@pytest.mark.filterwarnings(SDK_BASIC_AUTH_WARNING)
async def test_scopes_decide_the_claims_and_errors(emulator: Emulator) -> None:
    app = make_test_app(emulator.state, name="Product", redirect_urls=[CALLBACK])
    client = AsyncWebClient(base_url=emulator.api_url, timeout=10)
    code = await _sign_in(emulator, app.client_id, "openid", "n-1")
    with pytest.raises(SlackApiError) as wrong_secret:
        await client.openid_connect_token(
            client_id=app.client_id, client_secret="nope", code=code, redirect_uri=CALLBACK
        )
    assert wrong_secret.value.response["error"] == "bad_client_secret"
    tokens = await client.openid_connect_token(
        client_id=app.client_id, client_secret=app.client_secret, code=code, redirect_uri=CALLBACK
    )
    info = await client.openid_connect_userInfo(token=tokens["access_token"])
    assert info["sub"] == ALICE and "email" not in info and "name" not in info

    # A Sign in with Slack code is not an install code, and the reverse.
    v2 = await emulator.control_post(
        "oauth/approve",
        {
            "authorize_url": f"{emulator.url}/openid/connect/authorize?"
            + urlencode({"client_id": app.client_id, "scope": "openid", "redirect_uri": CALLBACK}),
            "team_id": ACME,
            "user_id": ALICE,
        },
    )
    other_code = parse_qs(urlsplit(v2["redirect_url"]).query)["code"][0]
    with pytest.raises(SlackApiError) as mismatch:
        await client.oauth_v2_access(
            client_id=app.client_id,
            client_secret=app.client_secret,
            code=other_code,
            redirect_uri=CALLBACK,
        )
    assert mismatch.value.response["error"] == "oauth_authorization_url_mismatch"

    bad_scope = await emulator.control.get(
        "/openid/connect/authorize?"
        + urlencode({"client_id": app.client_id, "scope": "email", "redirect_uri": CALLBACK})
    )
    assert bad_scope.status_code == 400 and "openid" in bad_scope.text
    discovery = (await emulator.control.get("/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == "https://slack.com"
    assert discovery["jwks_uri"] == f"{emulator.url}/openid/connect/keys"
    assert discovery["token_endpoint"] == f"{emulator.url}/api/openid.connect.token"
