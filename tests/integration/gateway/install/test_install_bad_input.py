"""Garbage on /slack/install and /slack/oauth/callback: a clear HTML page with a 4xx status,
never a 5xx, a framework's JSON or a reflected value."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from slackbridge.slack.workspaces.lifecycle import installations_repo
from tests.support.stack import GatewayServer, browser, consent, start_install

ACME = "T0ACME0001"


def _page(answer: httpx.Response, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    for word in words:
        assert word in answer.text, answer.text


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"page": "maybe"}, "page parameter"),
        ({"team": "acme"}, "team parameter"),
        ({"team": "T0ACME0001&scope=admin"}, "team parameter"),
        ({"ref": "r" * 256}, "ref parameter"),
        ({"app": "a" * 101}, "app parameter"),
    ],
    ids=["page", "team", "team-injection", "ref", "app"],
)
async def test_a_bad_install_link_is_explained(
    gateway: GatewayServer, gateway_app: Any, params: dict[str, str], says: str
) -> None:
    async with browser() as b:
        answer = await b.get(gateway.url + "/slack/install", params=params)
    _page(answer, 400, "Invalid install link", says, "invalid_link")
    assert "set-cookie" not in answer.headers  # no state was issued


async def test_lenient_forms_of_the_install_parameters(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        for page in ("true", "yes", "ON"):
            shown = await b.get(gateway.url + "/slack/install", params={"page": page})
            _page(shown, 200, "Add to Slack")
        for params in ({"page": "0"}, {"page": ""}, {"app": "", "team": "", "ref": ""}):
            redirect = await b.get(gateway.url + "/slack/install", params=params)
            assert redirect.status_code == 302, redirect.text
        authorize = await start_install(b, gateway, extra_params=[("team", ACME)])
    assert parse_qs(urlsplit(authorize).query)["team"] == [ACME]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": ""},
        {"state": "x" * 10_000, "code": "y" * 10_000},
        "state=%00%FF%FE&code=%C3",  # not UTF-8
        {"state": "abc", "code": "x", "error": "access_denied"},
        {"code": "x", "error": "<script>alert(1)</script>"},
        {"state": "abc", "unexpected": "1", "state2": "z"},
    ],
    ids=["nothing", "empty", "huge", "binary", "denied-unknown", "script", "extra"],
)
async def test_a_garbage_callback_is_refused_with_a_page(
    gateway: GatewayServer, gateway_app: Any, params: dict[str, str] | str
) -> None:
    url = gateway.url + "/slack/oauth/callback"
    async with browser() as b:
        if isinstance(params, str):
            answer = await b.get(f"{url}?{params}")
        else:
            answer = await b.get(url, params=params)
    assert answer.status_code in (400, 403, 409, 410), answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in answer.text
    assert await installations_repo(gateway.gateway).list() == []


async def test_an_odd_error_from_slack_is_not_repeated_on_the_page(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        authorize = await start_install(b, gateway)
        state = parse_qs(urlsplit(authorize).query)["state"][0]
        answer = await b.get(
            gateway.url + "/slack/oauth/callback",
            params={"state": state, "error": '"><img src=x onerror=alert(1)>'},
        )
    _page(answer, 502, "unrecognized_error")
    assert "onerror" not in answer.text
    assert await installations_repo(gateway.gateway).list() == []


async def test_slack_unreachable_during_the_exchange(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        authorize = await start_install(b, gateway)
        back = await consent(gateway.emulator, authorize, ACME, "U0ACME0001")
        gateway.gateway.settings.slack_api_url = "http://127.0.0.1:1/api/"  # nothing listens
        answer = await b.get(back)
    _page(answer, 502, "Slack could not be reached", "Start the installation again")
    assert await installations_repo(gateway.gateway).list() == []
