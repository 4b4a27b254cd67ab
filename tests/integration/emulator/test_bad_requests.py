"""Bad requests get Slack's own errors, never a traceback (property-based).

Every Web API method and every other HTTP route (the control API under ``/_emulator/``,
``response_url``s, incoming webhooks, the OAuth pages, file uploads and downloads) is sent
malformed requests: wrong types, missing and unknown fields, huge strings, broken JSON, lone
surrogates, wrong content types, bad tokens. Each answer must be the route's own error shape
(Web API: HTTP 200 and ``{"ok": false, "error"}``; control API: 4xx JSON with ``error`` and
``detail``; webhooks and response URLs: Slack's plain-text codes), never a 5xx, an
``internal_error`` or a logged exception, and the emulator must still render its whole world
afterwards.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from slackbridge.emulator import create_app
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.webapi.registry import REGISTRY
from tests.integration.emulator.fuzz_world import fresh_world
from tests.integration.emulator.fuzzing import Req, app_answer, request_for, resolve
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL
from tests.support.fuzz import examples

# Few examples per route, many routes: the whole file stays within seconds. `make test-deep`
# draws twenty times as many, at random (tests/support/fuzz.py); EMULATOR_FUZZ_EXAMPLES (e.g.
# 500) sets the count outright when changing request handling.
_SETTINGS = settings(
    max_examples=int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "0")) or examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_PLAIN_TEXT_ROUTES = ("/_emulator/response/", "/services/")
_SLACK_CODE = re.compile(r"[a-z_]+")


@dataclass
class Emu:
    client: httpx.AsyncClient
    state: EmulatorState
    outbound: Outbound
    # What the installed app answers everything with (drawn per example): status, headers, body.
    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")

    def app_answers(self, request: httpx.Request) -> httpx.Response:
        status, headers, content = self.answer
        return httpx.Response(status, headers=headers, content=content)


@pytest.fixture
async def emu() -> AsyncIterator[Emu]:
    state = build_state(rate_limits=False)
    holder: list[Emu] = []
    transport = httpx.MockTransport(lambda request: holder[0].app_answers(request))
    app = create_app(state, delivery_transport=transport)
    async with app.router.lifespan_context(app):
        asgi = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://emu.test") as client:
            holder.append(Emu(client, state, app.state.outbound))
            yield holder[0]


def _other_routes() -> list[tuple[str, str, list[str]]]:
    """Every plain HTTP route but ``/api/{method}`` and the page: (method, path, params)."""
    found = []
    for route in create_app(build_state()).routes:
        if not isinstance(route, Route) or route.path in ("/api/{method}", "/"):
            continue
        for http_method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((http_method, route.path, list(route.param_convertors)))
    return found


_ROUTES = _other_routes()


async def _exchange(
    emu: Emu, req: Req, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> httpx.Response:
    """Reset the world, send ``req`` in it (the app answering as drawn), and check that nothing
    was logged as an error."""
    caplog.clear()
    values = fresh_world(emu.state, emu.outbound)
    status, headers, content = data.draw(app_answer(), label="app answers")
    for key, value in values.items():
        content = content.replace(key.encode(), value.encode())
    emu.answer = (status, headers, content)
    concrete = resolve(req, values)
    response = await emu.client.request(
        concrete.method, concrete.path, headers=concrete.headers, content=concrete.content or None
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], f"{concrete.method} {concrete.path} logged {errors}"
    return response


async def _still_healthy(emu: Emu) -> None:
    """The emulator still renders its whole world and the channel the request may have hit, and
    a person can still click in the newest app message there (whatever the app posted)."""
    state = await emu.client.get("/_emulator/state")
    assert state.status_code == 200 and state.json()["ok"] is True
    listing = await emu.client.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")
    assert listing.status_code == 200 and listing.json()["ok"] is True
    from_app = [m for m in listing.json()["messages"] if m.get("app_id")]
    if from_app:
        click = {"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "action_id": "go"}
        clicked = await emu.client.post(
            "/_emulator/actions", json={**click, "message_ts": from_app[-1]["ts"]}
        )
        assert clicked.status_code < 500, clicked.text


def _json_error_shape(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    data = response.json()
    assert isinstance(data, dict) and isinstance(data.get("ok"), bool), data
    if not data["ok"]:
        assert isinstance(data.get("error"), str) and data["error"], data
        assert data["error"] != "internal_error", data
    result: dict[str, Any] = data
    return result


@pytest.mark.parametrize("method", sorted(REGISTRY))
@_SETTINGS
@given(data=st.data())
async def test_web_api_methods_answer_slack_errors(
    emu: Emu, caplog: pytest.LogCaptureFixture, method: str, data: st.DataObject
) -> None:
    http_method = data.draw(st.sampled_from(["POST", "POST", "POST", "GET"]), label="verb")
    usual = ("form", "json", "multipart")
    req = data.draw(request_for(http_method, f"/api/{method}", [], usual), label="request")
    response = await _exchange(emu, req, caplog, data)
    assert response.status_code == 200, response.text
    _json_error_shape(response)
    await _still_healthy(emu)


@pytest.mark.parametrize(("http_method", "path", "params"), _ROUTES)
@_SETTINGS
@given(data=st.data())
async def test_other_routes_answer_their_own_errors(
    emu: Emu,
    caplog: pytest.LogCaptureFixture,
    http_method: str,
    path: str,
    params: list[str],
    data: st.DataObject,
) -> None:
    req = data.draw(request_for(http_method, path, params), label="request")
    response = await _exchange(emu, req, caplog, data)
    assert response.status_code < 500, response.text
    if path.startswith(_PLAIN_TEXT_ROUTES):
        # response_url and incoming webhooks answer like Slack: "ok" or a plain-text code.
        assert response.headers["content-type"].startswith("text/plain"), response.text
        assert _SLACK_CODE.fullmatch(response.text), response.text
    elif path.startswith("/_emulator/"):
        body = _json_error_shape(response)
        if response.status_code >= 400:
            assert body["ok"] is False and isinstance(body.get("detail"), str), body
    await _still_healthy(emu)


def test_every_route_is_covered() -> None:
    """The route list is read from the app, so a new route is fuzzed without editing this file."""
    paths = {path for _, path, _ in _ROUTES}
    assert "/_emulator/messages" in paths and "/services/{team_id}/{hook_id}/{secret}" in paths
    assert "/_emulator/response/{url_id:path}" in paths and len(REGISTRY) > 40


@pytest.mark.parametrize("path", ["/_emulator/response/.", "/services/.", "/services/./x/.."])
async def test_dot_segments_still_answer_in_plain_text(emu: Emu, path: str) -> None:
    """A client removes dot segments before sending (the fuzzer drew "/_emulator/response/."),
    so the bare prefix arrives; it answers as the URLs under it do."""
    response = await emu.client.post(path, content=b"{}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "no_service"
