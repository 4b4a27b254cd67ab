"""The live chat's Sign in with Slack settings never show the app's client secret."""

from __future__ import annotations

from slackbridge.demo.livechat.signin import SlackOidc


def test_the_client_secret_stays_out_of_the_repr() -> None:
    oidc = SlackOidc("https://slack.com", "https://slack.com/api/", "123.456", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(oidc) and "s3cr3t-value" not in str(oidc)
    assert "123.456" in repr(oidc)
