"""The example products' shared plumbing: the webhook ids already applied, the runners' start."""

from __future__ import annotations

import pytest

from slackbridge.demo.product_common import SeenWebhooks, listen_address

_REQUIRED = {"SLACKBRIDGE_API_URL": "the gateway's address", "DEMO_WEBHOOK_SECRET": "the secret"}


def test_a_webhook_id_is_applied_once_and_the_oldest_are_forgotten() -> None:
    seen = SeenWebhooks(limit=2)
    assert seen.first_time("msg_1") and seen.first_time("msg_2")
    assert not seen.first_time("msg_1")
    assert seen.first_time("msg_3")  # msg_1 is forgotten now (the limit is 2)
    assert seen.first_time("msg_1")
    assert not seen.first_time("msg_3")


def test_a_webhook_without_an_id_is_always_new() -> None:
    seen = SeenWebhooks()
    assert seen.first_time("") and seen.first_time("")


def test_listen_address_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DEMO_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("SLACKBRIDGE_API_URL", "http://127.0.0.1:8000")
    assert listen_address("The demo product", "DEMO", _REQUIRED) is None
    err = capsys.readouterr().err
    assert "The demo product needs these environment variables" in err
    assert "DEMO_WEBHOOK_SECRET: the secret" in err and "SLACKBRIDGE_API_URL" not in err


def test_listen_address_reads_host_and_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACKBRIDGE_API_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("DEMO_WEBHOOK_SECRET", "whsec_x")
    monkeypatch.delenv("DEMO_HOST", raising=False)
    monkeypatch.delenv("DEMO_PORT", raising=False)
    assert listen_address("Demo", "DEMO", _REQUIRED) == ("127.0.0.1", 8002)
    monkeypatch.setenv("DEMO_HOST", "0.0.0.0")
    monkeypatch.setenv("DEMO_PORT", "9000")
    assert listen_address("Demo", "DEMO", _REQUIRED) == ("0.0.0.0", 9000)
    for bad in ("eighty", "0", "65536"):
        monkeypatch.setenv("DEMO_PORT", bad)
        assert listen_address("Demo", "DEMO", _REQUIRED) is None
        assert f"DEMO_PORT must be a port number, not {bad!r}" in capsys.readouterr().err
