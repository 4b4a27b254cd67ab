"""A NUL character in a request body is a 422 naming where it is, on every engine: PostgreSQL
can't store one, and answered 500 where it reached the database."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.store.crypto import generate_key
from tests.integration.gateway.api.conftest import ACME, SUPPORT, ProductServer, start_stack
from tests.integration.gateway.conftest import GatewayFactory

pytestmark = pytest.mark.postgres


def _still(**extra: Any) -> dict[str, Any]:
    return {"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}, **extra}


async def test_nul_characters_are_refused_before_they_reach_postgresql(
    pg_schema: tuple[str, str], gateway_factory: GatewayFactory, product: ProductServer
) -> None:
    url, schema = pg_schema
    stack = await start_stack(
        gateway_factory,
        product,
        database_url=url,
        database_schema=schema,
        secret_keys=generate_key(),
    )
    assert stack.gateway.gateway.db.is_postgres
    persona = {"persona": {"name": "x"}}
    refused: list[tuple[str, str, dict[str, Any], str]] = [
        ("PUT", "/conversations/k0", _still(title="a\x00b"), "title"),
        ("PUT", "/conversations/k1", _still(metadata={"a": ["b\x00"]}), "metadata.a.0"),
        ("PUT", "/conversations/k2", _still(metadata={"a\x00": 1}), "metadata.a\\u0000"),
        ("PUT", "/conversations/k3", _still(card={"text": "a\x00"}), "card.text"),
        (
            "POST",
            "/conversations/ok/messages",
            {"id": "m1", "author": persona, "text": "\x00"},
            "text",
        ),
        (
            "POST",
            "/conversations/ok/messages",
            {"id": "m2", "author": {"persona": {"name": "x\x00"}}, "text": "a"},
            "author.persona.name",
        ),
        ("PATCH", "/conversations/ok/messages/m0", {"text": "b\x00"}, "text"),
        ("POST", "/conversations/ok/close", {"message": "\x00"}, "message"),
        ("PUT", "/user-links/u1", {"workspace": ACME, "email": "a@b\x00"}, "email"),
        ("POST", "/messages", {"workspace": ACME, "channel": SUPPORT, "text": "a\x00"}, "text"),
    ]
    async with stack.api:
        created = await stack.api.put("/conversations/ok", json=_still())
        assert created.status_code == 201, created.text
        post = {"id": "m0", "author": persona, "text": "fine"}
        posted = await stack.api.post("/conversations/ok/messages", json=post)
        assert posted.status_code == 202, posted.text
        for method, path, body, where in refused:
            answer = await stack.api.request(method, path, json=body)
            assert answer.status_code == 422, (path, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "invalid_request"
            assert f"{where} holds a NUL character" in error["message"], error
        assert (await stack.api.get("/conversations/k0")).status_code == 404
        lookup = await stack.api.get(f"/workspaces/{ACME}/users", params={"email": "a\0@b.c"})
        assert lookup.status_code == 422, lookup.text
        # The conversation still answers and closes.
        closed = await stack.api.post("/conversations/ok/close", json={"message": "bye"})
        assert closed.status_code == 200, closed.text
