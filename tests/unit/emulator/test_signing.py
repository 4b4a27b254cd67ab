from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

from slackbridge.emulator.signing import signature, signed_headers

# The published example from Slack's "verifying requests" documentation.
_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_TS = 1531420618
_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    b"803a0bc887a14d10d2c447fce8b6703c"
)


def test_signature_matches_published_vector() -> None:
    assert (
        signature(_SECRET, _TS, _BODY)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_signed_headers_verify_with_slack_sdk() -> None:
    body = b'{"type":"event_callback"}'
    headers = signed_headers("s3cret", 1_700_000_000, body)
    verifier = SignatureVerifier("s3cret", clock=_FixedClock(1_700_000_010))
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other", clock=_FixedClock(1_700_000_010)).is_valid_request(
        body, headers
    )


class _FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now
