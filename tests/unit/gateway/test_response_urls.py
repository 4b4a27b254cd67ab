"""Which response_url values the gateway accepts (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.api.response_urls import response_url_problem, response_url_rules

_REAL = response_url_rules(("https://slack.com/", "https://slack.com/api/"))
_EMULATED = response_url_rules(("http://127.0.0.1:8001/", "http://127.0.0.1:8001/api/"))


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
        "https://hooks.slack.com/actions/T0ACME0001/1234567890/abc_DEF-123",
        "https://hooks.slack.com/commands/E0ENTERPR1/1/x",
    ],
)
def test_slack_response_urls_pass(url: str) -> None:
    assert response_url_problem(url, _REAL) is None
    assert response_url_problem(url, _EMULATED) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.slack.com/commands/T1/1/abc", "use https"),
        ("https://hooks.slack.com/services/T1/B1/secret", "not the path"),
        ("https://hooks.slack.com/commands/T1/1/abc/extra", "not the path"),
        ("https://hooks.slack.com/", "not the path"),
        ("https://hooks.slack.com/commands/T1/1/abc?x=1", "no query"),
        ("https://user:pw@hooks.slack.com/commands/T1/1/abc", "no credentials"),
        ("https://slack.com/commands/T1/1/abc", "not a Slack response_url host"),
        ("https://evil.example/commands/T1/1/abc", "not a Slack response_url host"),
        ("http://127.0.0.1:8001/_emulator/response/T0ACME0001/1/abc", "not a Slack"),
        ("http://[x", "not a valid URL"),
        ("http://hooks.slack.com:notaport/commands/T1/1/a", "not a valid URL"),
    ],
)
def test_anything_else_is_refused_with_a_reason(url: str, why: str) -> None:
    problem = response_url_problem(url, _REAL)
    assert problem is not None and why in problem


def test_the_emulator_host_takes_only_its_own_shape() -> None:
    good = "http://127.0.0.1:8001/_emulator/response/T0ACME0001/000000000042/abc-_Z9"
    assert response_url_problem(good, _EMULATED) is None
    assert "use http" in str(response_url_problem(good.replace("http:", "https:"), _EMULATED))
    assert "not the path" in str(
        response_url_problem("http://127.0.0.1:8001/_emulator/state", _EMULATED)
    )
    assert "not a Slack" in str(response_url_problem(good.replace("8001", "8002"), _EMULATED))


@given(st.text(max_size=80))
def test_never_raises_and_always_says_why(url: str) -> None:
    for candidate in (url, "http://" + url, "https://hooks.slack.com" + url):
        problem = response_url_problem(candidate, _EMULATED)
        assert problem is None or (isinstance(problem, str) and problem)
