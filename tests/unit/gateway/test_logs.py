from __future__ import annotations

import io
import json
import logging

import pytest

from slackbridge.logs import RedactingFilter, _JsonFormatter, redact


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-123456789012-123456789012-abcdefABCDEF1234",
        "xoxp-1-2-3-abcdef",
        "xoxe.xoxb-1-MS0yLTEyMzQ1Ng-abcdef",
        "xoxe-1-My0xLTEyMzQ1Ng-abcdef",
        "xapp-1-A0123-456-abcdef",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ],
)
def test_tokens_are_masked(secret: str) -> None:
    out = redact(f"calling with {secret} now")
    assert secret not in out
    assert "[redacted]" in out
    assert out.startswith("calling with ") and out.endswith(" now")


def test_key_value_secrets_and_headers_and_url_passwords() -> None:
    text = (
        "client_secret=abc123&code=xyz Authorization: Bearer s3cr3t.t0ken "
        "postgresql+asyncpg://bob:hunter2@db/x"
    )
    out = redact(text)
    for secret in ("abc123", "xyz", "s3cr3t.t0ken", "hunter2"):
        assert secret not in out
    assert "client_secret=[redacted]" in out
    assert "bob:[redacted]@db" in out


def test_filter_redacts_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_JsonFormatter())
    logger = logging.getLogger("slackbridge.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError("token xoxb-999-888-secretvalue rejected")
        except RuntimeError:
            logger.exception("refresh failed for %s", "xoxp-5-6-7-userkey")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "secretvalue" not in line and "userkey" not in line
    entry = json.loads(line)
    assert entry["level"] == "error"
    assert entry["msg"] == "refresh failed for [redacted]"
    assert "RuntimeError" in entry["exc"]


def test_secret_fields_in_json_and_dict_dumps_and_webhook_urls() -> None:
    text = (
        "body: {'ok': True, 'credentials': {'client_secret': 'c0ffee', 'signing_secret': 's1gn', "
        "'verification_token': 'v3rify'}} data: {'code': '123.456.abc', 'state': 'st4te'} "
        '{"refresh_token": "r3fresh", "error": "invalid_code"} '
        "url https://hooks.example/services/T0ACME0001/B0123456789/w3bh00kS3cret "
        "GET /slack/oauth/callback?code=x&state=s7ate"
    )
    out = redact(text)
    for secret in (
        "c0ffee",
        "s1gn",
        "v3rify",
        "123.456.abc",
        "st4te",
        "r3fresh",
        "w3bh00kS3cret",
        "s7ate",
    ):
        assert secret not in out
    assert "'client_secret': '[redacted]'" in out
    assert '"error": "invalid_code"' in out  # not a secret: kept
    assert "/services/T0ACME0001/B0123456789/[redacted]" in out
