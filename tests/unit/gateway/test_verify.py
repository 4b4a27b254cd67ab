from __future__ import annotations

import pytest

from slackbridge.slack.inbound.verify import SignatureError, compute_signature, verify_signature

# The example from Slack's "verifying requests from Slack" page.
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
    b"&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
    b"%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_published_vector() -> None:
    assert compute_signature(SECRET, TIMESTAMP, BODY) == EXPECTED


def test_accepts_valid_signature_and_reports_matching_secret() -> None:
    index = verify_signature(
        ["other-secret", SECRET], TIMESTAMP, EXPECTED, BODY, now=int(TIMESTAMP) + 10
    )
    assert index == 1


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "reason"),
    [
        (None, EXPECTED, 1531420618, "missing"),
        (TIMESTAMP, None, 1531420618, "missing"),
        ("abc", EXPECTED, 1531420618, "not an integer"),
        (TIMESTAMP, EXPECTED, 1531420618 + 301, "5-minute window"),
        (TIMESTAMP, EXPECTED, 1531420618 - 301, "5-minute window"),
        (TIMESTAMP, "v1=" + EXPECTED[3:], 1531420618, "unsupported"),
        (TIMESTAMP, EXPECTED[:-1] + "0", 1531420618, "does not match"),
    ],
)
def test_rejections(timestamp: str | None, signature: str | None, now: int, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_signature([SECRET], timestamp, signature, BODY, now=now)


def test_window_edge_is_inclusive() -> None:
    assert verify_signature([SECRET], TIMESTAMP, EXPECTED, BODY, now=1531420618 + 300) == 0


def test_tampered_body_is_rejected() -> None:
    with pytest.raises(SignatureError):
        verify_signature([SECRET], TIMESTAMP, EXPECTED, BODY + b"x", now=1531420618)
