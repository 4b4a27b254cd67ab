"""The pure checks on requests to the ingress routes."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.slack.inbound.ingress_checks import (
    Rejected,
    body_dedupe_key,
    check_content_length,
    event_dedupe_key,
    is_ssl_check,
    match_verification_token,
    parse_request,
    retry_info,
    socket_dedupe_key,
    without_token,
)


def test_content_length_limit() -> None:
    check_content_length(None, 10)
    check_content_length("10", 10)
    with pytest.raises(Rejected) as too_big:
        check_content_length("11", 10)
    assert too_big.value.status == 413
    for bad in ("ten", "-1"):
        with pytest.raises(Rejected) as invalid:
            check_content_length(bad, 10)
        assert invalid.value.status == 400


def test_url_verification_is_answered_with_its_challenge() -> None:
    body = orjson.dumps({"type": "url_verification", "token": "t", "challenge": "abc123"})
    parsed = parse_request("events", body)
    assert parsed.answer is not None
    assert orjson.loads(parsed.answer) == {"challenge": "abc123"}
    assert parsed.answer_type == "application/json"


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("events", b"{not json", "not valid JSON"),
        ("events", b"[1, 2]", "not a JSON object"),
        ("events", b'{"event": {}}', "no type"),
        ("events", b'{"type": "event_callback"}', "without an event"),
        ("events", b'{"type": "url_verification"}', "without a challenge"),
        ("commands", b"text=hi&team_id=T1", "missing command"),
        ("commands", b"\xff\xfe", "not a valid form"),
        ("interactivity", b"foo=bar", "missing payload"),
        ("interactivity", b"payload=%7Bnope", "not valid JSON"),
        ("interactivity", urlencode({"payload": '{"x": 1}'}).encode(), "has no type"),
    ],
)
def test_malformed_bodies_are_400(kind: str, body: bytes, message: str) -> None:
    with pytest.raises(Rejected) as rejected:
        parse_request(kind, body)  # type: ignore[arg-type]
    assert rejected.value.status == 400
    assert message in rejected.value.message


def test_well_formed_payloads_parse() -> None:
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message"}}
    assert parse_request("events", orjson.dumps(event)).payload == event
    command = parse_request("commands", b"command=%2Fbridge&text=hi+there&team_id=T1")
    assert command.payload == {"command": "/bridge", "text": "hi there", "team_id": "T1"}
    inner = {"type": "block_actions", "actions": []}
    form = urlencode({"payload": orjson.dumps(inner).decode()}).encode()
    assert parse_request("interactivity", form).payload == inner
    assert parse_request("outgoing", b"token=abc&text=hi").payload["token"] == "abc"


def test_outgoing_webhooks_need_a_token() -> None:
    with pytest.raises(Rejected) as rejected:
        parse_request("outgoing", b"text=hi")
    assert rejected.value.status == 401
    assert match_verification_token("b", ["a", "b"]) == 1
    with pytest.raises(Rejected) as wrong:
        match_verification_token("c", ["a", "b"])
    assert wrong.value.status == 401


def test_ssl_check_only_on_commands() -> None:
    assert is_ssl_check("commands", b"ssl_check=1&token=x")
    assert not is_ssl_check("commands", b"command=%2Fx&text=ssl_check=1")
    assert not is_ssl_check("events", b"ssl_check=1")


def test_dedupe_keys() -> None:
    event = {"api_app_id": "A1", "event_id": "Ev9", "type": "event_callback"}
    body = orjson.dumps(event)
    assert event_dedupe_key(event, body) == "ev:A1:Ev9"
    # The same event over Socket Mode has the same key, whatever its JSON spacing.
    assert socket_dedupe_key("events", event) == "ev:A1:Ev9"
    no_id = {"type": "app_rate_limited"}
    assert event_dedupe_key(no_id, b"x") == body_dedupe_key("events", b"x")
    assert body_dedupe_key("commands", b"a") != body_dedupe_key("commands", b"b")
    assert body_dedupe_key("commands", b"a") != body_dedupe_key("interactivity", b"a")


def test_retry_headers_are_kept() -> None:
    assert retry_info({}) == {}
    headers = {"x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout"}
    assert retry_info(headers) == {"retry_num": 2, "retry_reason": "http_timeout"}


def test_the_verification_token_is_taken_out_of_every_kind_of_body() -> None:
    event = {"token": "vt", "type": "event_callback", "event": {"type": "message", "token": "in"}}
    body, payload = without_token("events", orjson.dumps(event), dict(event))
    assert orjson.loads(body) == payload == {k: v for k, v in event.items() if k != "token"}
    assert payload["event"]["token"] == "in"  # only Slack's top-level field is the credential

    form = b"command=%2Fbridge&token=vt&text=a%26b+token%3Dx&t%6Fken=vt2"
    body, payload = without_token("commands", form, parse_request("commands", form).payload)
    assert body == b"command=%2Fbridge&text=a%26b+token%3Dx"
    assert payload == {"command": "/bridge", "text": "a&b token=x"}
    body, payload = without_token("outgoing", b"token=vt&text=hi", {"token": "vt", "text": "hi"})
    assert (body, payload) == (b"text=hi", {"text": "hi"})

    inner = {"type": "block_actions", "token": "vt", "actions": []}
    form = urlencode({"payload": orjson.dumps(inner).decode()}).encode()
    body, payload = without_token(
        "interactivity", form, parse_request("interactivity", form).payload
    )
    assert b"vt" not in body
    assert (
        parse_request("interactivity", body).payload
        == payload
        == {"type": "block_actions", "actions": []}
    )


def test_a_body_without_a_token_is_kept_as_it_is() -> None:
    body = b'{"type": "event_callback", "event": {}}'
    payload = orjson.loads(body)
    assert without_token("events", body, payload) == (body, payload)
    assert without_token("events", body, payload)[0] is body


_FIELD = st.text(min_size=1, max_size=12).filter(lambda k: k != "token")


@given(
    st.dictionaries(_FIELD, st.text(max_size=20), max_size=6),
    st.text(min_size=1, max_size=20),
    st.sampled_from(["token", "%74oken", "t%6Fken", "%74%6F%6B%65%6E"]),
)
def test_any_form_keeps_every_field_but_the_token(
    fields: dict[str, str], token: str, spelling: str
) -> None:
    form = urlencode(fields).encode()
    pair = f"{spelling}={quote_plus(token)}".encode()
    body = form + b"&" + pair if form else pair
    parsed = parse_request("outgoing", body).payload
    assert parsed == {**fields, "token": token}
    stored, payload = without_token("outgoing", body, parsed)
    assert payload == fields
    assert dict(parse_qsl(stored.decode(), keep_blank_values=True)) == fields
