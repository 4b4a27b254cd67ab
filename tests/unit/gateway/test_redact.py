"""URLs are shown without their credentials, tokens and fragments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.redact import redact_in_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host/path?token=x", "https://***@host/path?***"),
        ("https://host.example:8443/hooks", "https://host.example:8443/hooks"),
        (
            "http://127.0.0.1:8002/webhooks/slackbridge",
            "http://127.0.0.1:8002/webhooks/slackbridge",
        ),
        ("https://token@host/a?b=c#frag", "https://***@host/a?***#***"),
        ("https://a:b@[::1]:9000/x", "https://***@[::1]:9000/x"),
        ("https://u:p@w@host/", "https://***@host/"),  # the last @ ends the userinfo
        ("http://host?only=query", "http://host?***"),
        ("https://[not-closed/x?k=v", "***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=4, max_size=20)


@given(user=_part, password=_part, token=_part)
def test_no_secret_part_survives(user: str, password: str, token: str) -> None:
    url = f"https://{user}:{password}@hooks.example.com/in?token={token}"
    shown = redact_url(url)
    assert shown == "https://***@hooks.example.com/in?***"
    assert redact_in_text(f"POST {url} failed", url) == f"POST {shown} failed"


def test_secret_parts_are_redacted_from_text_that_quotes_them_alone() -> None:
    url = "https://bob:hunter2@h.example/x?sig=abc123"
    text = "auth bob:hunter2 refused; query sig=abc123 was sent"
    cleaned = redact_in_text(text, url)
    assert "hunter2" not in cleaned and "abc123" not in cleaned
