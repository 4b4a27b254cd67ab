"""OAuth v2 install over HTTP: consent page, scripted approval, code exchange, rotation, auth.*."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from slackbridge.emulator.state import App, EmulatorState
from slackbridge.emulator.testing import make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, BOB, GENERAL, GLOBEX, call
from tests.integration.emulator.receiver import RECEIVER_URL, Receiver, emulator_delivering_to

CALLBACK = "https://product.test/slack/oauth/callback"


@pytest.fixture
def app(state: EmulatorState) -> App:
    return make_test_app(
        state,
        name="Helpdesk",
        bot_scopes=["chat:write", "channels:history"],
        user_scopes=["search:read"],
        redirect_urls=[CALLBACK],
        event_request_url=f"{RECEIVER_URL}/slack/events",
        bot_events=["tokens_revoked", "app_uninstalled"],
    )


@pytest.fixture
async def emu(
    state: EmulatorState, app: App, receiver: Receiver
) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_delivering_to(state, receiver) as client:
        yield client


def _authorize_url(app: App, **extra: str) -> str:
    params = {
        "client_id": app.client_id,
        "scope": "chat:write,incoming-webhook",
        "user_scope": "search:read",
        "redirect_uri": CALLBACK,
        "state": "s-123",
        **extra,
    }
    return "/oauth/v2/authorize?" + urlencode(params)


async def _approve(client: httpx.AsyncClient, url: str, **body: Any) -> httpx.Response:
    payload = {"authorize_url": f"http://emu.test{url}", "team_id": ACME, "user_id": ALICE, **body}
    return await client.post("/_emulator/oauth/approve", json=payload)


async def _code(client: httpx.AsyncClient, app: App, **extra: str) -> str:
    response = await _approve(client, _authorize_url(app, **extra))
    assert response.status_code == 200, response.text
    query = parse_qs(urlsplit(response.json()["redirect_url"]).query)
    return query["code"][0]


def _basic(app: App) -> dict[str, str]:
    raw = f"{app.client_id}:{app.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def _exchange(client: httpx.AsyncClient, app: App, **form: str) -> dict[str, Any]:
    response = await client.post("/api/oauth.v2.access", data=form, headers=_basic(app))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_consent_page_allow_and_exchange(
    emu: httpx.AsyncClient, app: App, state: EmulatorState
) -> None:
    url = _authorize_url(app)
    page = await emu.get(url)
    assert page.status_code == 200
    assert "Helpdesk is requesting permission" in page.text
    assert "chat:write" in page.text and "alice" in page.text and "Globex" in page.text
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form.update(installer=f"{ACME}:{ALICE}", decision="allow", channel_id=GENERAL)
    redirect = await emu.post("/oauth/v2/authorize", data=form)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s-123"]

    body = await _exchange(emu, app, code=query["code"][0], redirect_uri=CALLBACK)
    assert body["ok"] is True
    inst = state.installation(app.id, ACME)
    assert inst is not None
    assert body["access_token"].startswith("xoxb-") and body["token_type"] == "bot"
    assert body["scope"] == "chat:write,incoming-webhook"
    assert body["bot_user_id"] == inst.bot_user_id and body["app_id"] == app.id
    assert body["team"] == {"id": ACME, "name": "Acme"}
    assert body["enterprise"] is None and body["is_enterprise_install"] is False
    user = body["authed_user"]
    assert user["id"] == ALICE and user["scope"] == "search:read"
    assert user["access_token"].startswith("xoxp-") and user["token_type"] == "user"
    hook = body["incoming_webhook"]
    assert hook["channel"] == "#general" and hook["channel_id"] == GENERAL
    assert hook["url"].startswith("http://emu.test/services/T0ACME0001/B")
    assert "refresh_token" not in body and "expires_in" not in body

    bot = await call(emu, "auth.test", body["access_token"])
    assert bot["ok"] and bot["user_id"] == inst.bot_user_id and bot["bot_id"] == inst.bot_id
    assert bot["team_id"] == ACME and bot["team"] == "Acme"
    assert bot["url"] == "https://acme.slack.com/" and bot["is_enterprise_install"] is False
    person = await call(emu, "auth.test", user["access_token"])
    assert person["user_id"] == ALICE and person["user"] == "alice" and "bot_id" not in person


async def test_a_consent_form_with_a_file_part_is_answered_and_released(
    emu: httpx.AsyncClient, app: App
) -> None:
    # Browsers never send files here, scripts might; the uploaded part must be closed again
    # (an unclosed temporary file is a ResourceWarning, an error in this suite).
    url = _authorize_url(app)
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form.update(installer=f"{ACME}:{ALICE}", decision="deny")
    files = {"junk": ("junk.bin", b"\x00" * 2_000_000)}
    redirect = await emu.post("/oauth/v2/authorize", data=form, files=files)
    assert redirect.status_code == 302 and "error=access_denied" in redirect.headers["location"]


async def test_cancel_redirects_with_access_denied(emu: httpx.AsyncClient, app: App) -> None:
    response = await _approve(emu, _authorize_url(app), deny=True)
    query = parse_qs(urlsplit(response.json()["redirect_url"]).query)
    assert query == {"error": ["access_denied"], "state": ["s-123"]}
    url = _authorize_url(app)
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form.update(installer=f"{ACME}:{ALICE}", decision="deny")
    redirect = await emu.post("/oauth/v2/authorize", data=form)
    assert "error=access_denied" in redirect.headers["location"]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"client_id": "0.0"}, "invalid_client_id"),
        ({"redirect_uri": "https://evil.test/callback"}, "bad_redirect_uri"),
        ({"redirect_uri": "https://product.test/slack/other"}, "bad_redirect_uri"),
        ({"scope": "not a scope!"}, "invalid_scope"),
        ({"redirect_uri": "http://[::1/callback"}, "bad_redirect_uri"),
        ({"redirect_uri": "https://product.test:abc/slack/oauth/callback"}, "bad_redirect_uri"),
    ],
)
async def test_bad_authorize_requests_are_error_pages(
    emu: httpx.AsyncClient, app: App, extra: dict[str, str], error: str
) -> None:
    page = await emu.get(_authorize_url(app, **extra))
    assert page.status_code == 400
    assert error in page.text
    scripted = await _approve(emu, _authorize_url(app, **extra))
    assert scripted.status_code == 400 and scripted.json()["error"] == error


async def test_redirect_below_a_configured_url_is_allowed(emu: httpx.AsyncClient, app: App) -> None:
    below = CALLBACK + "/acme?x=1"
    response = await _approve(emu, _authorize_url(app, redirect_uri=below))
    assert response.json()["redirect_url"].startswith(below + "&code=")


async def test_approve_checks_the_installer(emu: httpx.AsyncClient, app: App) -> None:
    wrong_team = await _approve(emu, _authorize_url(app), team_id=GLOBEX)
    assert wrong_team.status_code == 400 and wrong_team.json()["error"] == "invalid_user"
    pinned = await _approve(emu, _authorize_url(app, team=GLOBEX))
    assert pinned.status_code == 400 and pinned.json()["error"] == "invalid_team"
    missing = await emu.post("/_emulator/oauth/approve", json={"team_id": ACME})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_arguments"
    unparsable = await emu.post(
        "/_emulator/oauth/approve",
        json={"authorize_url": "http://[::1/oauth/v2/authorize", "team_id": ACME, "user_id": ALICE},
    )
    assert unparsable.status_code == 400
    assert unparsable.json()["error"] == "invalid_authorize_url"


async def test_code_exchange_errors(
    emu: httpx.AsyncClient, app: App, state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await _code(emu, app)
    assert (await call(emu, "oauth.v2.access", client_id="0.0", code=code))[
        "error"
    ] == "invalid_client_id"
    bad_secret = await call(
        emu, "oauth.v2.access", client_id=app.client_id, client_secret="nope", code=code
    )
    assert bad_secret["error"] == "bad_client_secret"
    creds = {"client_id": app.client_id, "client_secret": app.client_secret}
    wrong_grant = await call(emu, "oauth.v2.access", code=code, grant_type="password", **creds)
    assert wrong_grant["error"] == "invalid_grant_type"
    wrong_uri = await call(emu, "oauth.v2.access", code=code, redirect_uri=CALLBACK + "x", **creds)
    assert wrong_uri["error"] == "bad_redirect_uri"
    no_uri = await call(emu, "oauth.v2.access", code=code, **creds)
    assert no_uri["error"] == "bad_redirect_uri"
    ok = await call(emu, "oauth.v2.access", code=code, redirect_uri=CALLBACK, **creds)
    assert ok["ok"] is True
    again = await call(emu, "oauth.v2.access", code=code, redirect_uri=CALLBACK, **creds)
    assert again["error"] == "invalid_code"
    assert (await call(emu, "oauth.v2.access", code="nope", **creds))["error"] == "invalid_code"

    late = await _code(emu, app)
    now = state.now()
    monkeypatch.setattr(state, "now", lambda: now + 601)
    expired = await call(emu, "oauth.v2.access", code=late, redirect_uri=CALLBACK, **creds)
    assert expired["error"] == "invalid_code"


async def test_v1_and_v2_codes_do_not_mix(emu: httpx.AsyncClient, app: App) -> None:
    creds = {"client_id": app.client_id, "client_secret": app.client_secret}
    v2_code = await _code(emu, app)
    mismatch = await call(emu, "oauth.access", code=v2_code, redirect_uri=CALLBACK, **creds)
    assert mismatch["error"] == "oauth_authorization_url_mismatch"

    v1_url = "/oauth/authorize?" + urlencode(
        {"client_id": app.client_id, "scope": "bot,commands", "redirect_uri": CALLBACK}
    )
    page = await emu.get(v1_url)
    assert page.status_code == 200
    response = await _approve(emu, v1_url, user_id=BOB)
    v1_code = parse_qs(urlsplit(response.json()["redirect_url"]).query)["code"][0]
    wrong = await call(emu, "oauth.v2.access", code=v1_code, redirect_uri=CALLBACK, **creds)
    assert wrong["error"] == "oauth_authorization_url_mismatch"
    legacy = await call(emu, "oauth.access", code=v1_code, redirect_uri=CALLBACK, **creds)
    assert legacy["ok"] is True
    assert legacy["access_token"].startswith("xoxp-") and legacy["user_id"] == BOB
    assert legacy["team_id"] == ACME and legacy["team_name"] == "Acme"
    assert legacy["scope"] == "bot,commands"
    assert legacy["bot"]["bot_user_id"].startswith("U")
    assert legacy["bot"]["bot_access_token"].startswith("xoxb-")


async def test_token_rotation_and_refresh(
    emu: httpx.AsyncClient, app: App, state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.token_rotation = True
    code = await _code(emu, app)
    body = await _exchange(emu, app, code=code, redirect_uri=CALLBACK)
    assert body["access_token"].startswith("xoxe.xoxb-1-")
    assert body["refresh_token"].startswith("xoxe-1-") and body["expires_in"] == 43200
    user = body["authed_user"]
    assert user["access_token"].startswith("xoxe.xoxp-1-") and user["expires_in"] == 43200
    assert user["refresh_token"].startswith("xoxe-1-")

    refreshed = await _exchange(
        emu, app, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert refreshed["ok"] is True and refreshed["token_type"] == "bot"
    assert refreshed["access_token"] != body["access_token"]
    assert refreshed["refresh_token"] != body["refresh_token"]
    assert refreshed["expires_in"] == 43200 and refreshed["team"]["id"] == ACME
    reused = await _exchange(
        emu, app, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert reused["error"] == "invalid_refresh_token"
    # The old access token keeps working until it expires.
    assert (await call(emu, "auth.test", body["access_token"]))["ok"] is True
    assert (await call(emu, "auth.test", refreshed["access_token"]))["expires_in"] <= 43200

    now = state.now()
    monkeypatch.setattr(state, "now", lambda: now + 43201)
    expired = await call(emu, "auth.test", body["access_token"])
    assert expired["error"] == "token_expired"


async def test_revoke(
    emu: httpx.AsyncClient, app: App, state: EmulatorState, receiver: Receiver
) -> None:
    body = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    user_token = body["authed_user"]["access_token"]
    bot_token = body["access_token"]
    tested = await call(emu, "auth.revoke", user_token, test="1")
    assert tested == {"ok": True, "revoked": False}
    assert (await call(emu, "auth.test", user_token))["ok"] is True
    assert await call(emu, "auth.revoke", user_token) == {"ok": True, "revoked": True}
    assert (await call(emu, "auth.test", user_token))["error"] == "token_revoked"

    assert (await call(emu, "auth.revoke", bot_token))["revoked"] is True
    inst = state.installation(app.id, ACME)
    assert inst is not None and inst.status == "revoked"
    assert (await call(emu, "auth.test", bot_token))["error"] == "token_revoked"
    await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
    events = [r.json()["event"] for r in receiver.on("/slack/events")]
    assert [e["type"] for e in events] == ["tokens_revoked", "tokens_revoked"]
    assert events[0]["tokens"] == {"oauth": [ALICE], "bot": []}
    assert events[1]["tokens"] == {"oauth": [], "bot": [inst.bot_user_id]}

    state_view = (await emu.get("/_emulator/state")).json()
    assert any(i["status"] == "revoked" for i in state_view["installations"])


async def test_revoking_the_bot_token_leaves_user_tokens_alive(
    emu: httpx.AsyncClient, app: App, state: EmulatorState
) -> None:
    body = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    user_token = body["authed_user"]["access_token"]
    assert (await call(emu, "auth.revoke", body["access_token"]))["revoked"] is True
    assert (await call(emu, "auth.test", body["access_token"]))["error"] == "token_revoked"
    # Slack revokes only the token named: the installing person's token keeps working.
    tested = await call(emu, "auth.test", user_token)
    assert tested["ok"] is True and tested["user_id"] == ALICE


async def test_uninstall_control_endpoint(
    emu: httpx.AsyncClient, app: App, state: EmulatorState, receiver: Receiver
) -> None:
    body = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    missing = await emu.post(f"/_emulator/apps/{app.id}/uninstall", json={"team_id": GLOBEX})
    assert missing.status_code == 404
    response = await emu.post(f"/_emulator/apps/{app.id}/uninstall", json={"team_id": ACME})
    assert response.status_code == 200 and response.json()["status"] == "uninstalled"
    assert (await call(emu, "auth.test", body["access_token"]))["error"] == "token_revoked"
    await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
    types = [r.json()["event"]["type"] for r in receiver.on("/slack/events")]
    assert types == ["tokens_revoked", "app_uninstalled"]
    # Reinstalling brings the same bot back with new tokens.
    again = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    assert again["bot_user_id"] == body["bot_user_id"]
    assert again["access_token"] != body["access_token"]
    assert (await call(emu, "auth.test", again["access_token"]))["ok"] is True


async def test_an_app_installs_outside_its_home_only_when_distributed(
    emu: httpx.AsyncClient, app: App, state: EmulatorState
) -> None:
    app.owner_team_id = ACME
    erin = "U0GLBX0001"
    page = await emu.get(_authorize_url(app))
    assert "Globex" not in page.text  # the consent page offers the home workspace only
    refused = await _approve(emu, _authorize_url(app), team_id=GLOBEX, user_id=erin)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_team_for_non_distributed_app"
    turned_on = await emu.post(f"/_emulator/apps/{app.id}/distribution", json={"enabled": True})
    assert turned_on.status_code == 200 and turned_on.json()["distributed"] is True
    approved = await _approve(emu, _authorize_url(app), team_id=GLOBEX, user_id=erin)
    assert approved.status_code == 200, approved.text
    code = parse_qs(urlsplit(approved.json()["redirect_url"]).query)["code"][0]
    # Distribution turned off before the exchange: oauth.v2.access refuses the code.
    await emu.post(f"/_emulator/apps/{app.id}/distribution", json={"enabled": False})
    body = await _exchange(emu, app, code=code, redirect_uri=CALLBACK)
    assert body == {"ok": False, "error": "invalid_team_for_non_distributed_app"}
    assert state.installation(app.id, GLOBEX) is None
    home = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    assert home["ok"] is True and home["team"]["id"] == ACME
    bad = await emu.post(f"/_emulator/apps/{app.id}/distribution", json={"enabled": "yes"})
    assert bad.status_code == 400


async def test_slackbot_cannot_approve_an_install(emu: httpx.AsyncClient, app: App) -> None:
    page = await emu.get(_authorize_url(app))
    assert "USLACKBOT" not in page.text
    refused = await _approve(emu, _authorize_url(app), user_id="USLACKBOT")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_user"


async def test_revocation_events_reach_only_subscribed_apps(
    emu: httpx.AsyncClient, app: App, receiver: Receiver
) -> None:
    app.bot_events = ["message.channels"]
    body = await _exchange(emu, app, code=await _code(emu, app), redirect_uri=CALLBACK)
    assert (await call(emu, "auth.revoke", body["access_token"]))["revoked"] is True
    response = await emu.post(f"/_emulator/apps/{app.id}/uninstall", json={"team_id": ACME})
    assert response.status_code == 200
    await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
    assert receiver.on("/slack/events") == []
