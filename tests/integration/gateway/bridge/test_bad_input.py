"""Odd input to the bridge's routes gets a clear 4xx, never a 500 (nor a stored row that breaks
later answers)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from slackbridge.client import Slackbridge
from tests.integration.gateway.api.conftest import ACME, API_KEY, GENERAL, SUPPORT, ApiStack


def _still_json(metadata: str) -> bytes:
    head = json.dumps(
        {"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}}
    )
    return (head[:-1] + ', "metadata": ' + metadata + "}").encode()


async def _put_raw(stack: ApiStack, key: str, body: bytes) -> Any:
    return await stack.api.put(
        f"/conversations/{key}", content=body, headers={"content-type": "application/json"}
    )


async def test_deeply_nested_metadata_is_refused_not_stored(stack: ApiStack) -> None:
    deep = await _put_raw(stack, "deep", _still_json('{"d":' + "[" * 600 + "]" * 600 + "}"))
    assert deep.status_code == 422, deep.text
    assert "metadata" in deep.json()["error"]["message"]
    assert (await stack.api.get("/conversations/deep")).status_code == 404
    listed = await stack.api.get("/conversations")
    assert listed.status_code == 200 and listed.json()["conversations"] == []


async def test_oversized_metadata_is_refused(stack: ApiStack) -> None:
    big = await _put_raw(stack, "big", _still_json('{"d":"' + "x" * 20_000 + '"}'))
    assert big.status_code == 422, big.text
    assert "metadata" in big.json()["error"]["message"]


async def test_metadata_a_few_levels_deep_is_kept(stack: ApiStack) -> None:
    nested = {"a": {"b": [{"c": [1, 2, {"d": None}]}]}}
    created = await stack.api.put(
        "/conversations/nested",
        json={
            "workspace": ACME,
            "mode": "still",
            "channel": SUPPORT,
            "card": {"text": "x"},
            "metadata": nested,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == nested


async def test_files_of_a_message_share_one_body_limit(stack: ApiStack) -> None:
    """docs/bridge.md: up to 10 files, 10 MiB in all; two files of 6 MiB are one body too many."""
    created = await stack.api.put(
        "/conversations/files",
        json={"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}},
    )
    assert created.status_code == 201, created.text
    six_mib = base64.b64encode(b"\0" * (6 * 1024 * 1024)).decode()
    post = {
        "id": "two-files",
        "author": {"persona": {"name": "x"}},
        "files": [{"filename": f"{n}.bin", "content_base64": six_mib} for n in "ab"],
    }
    answer = await stack.api.post("/conversations/files/messages", json=post)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"]["code"] == "payload_too_large"


async def test_only_channels_can_be_watched(stack: ApiStack) -> None:
    for not_a_channel in ("U0ACME0001", "W0ACME0001", "D0ACME0001"):
        answer = await stack.api.put(f"/watched-channels/{not_a_channel}", json={"workspace": ACME})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["details"][0]["field"] == "channel"
    listed = await stack.api.get("/watched-channels")
    assert listed.status_code == 200 and listed.json()["watched_channels"] == []
    watched = await stack.api.put(f"/watched-channels/{SUPPORT}", json={"workspace": ACME})
    assert watched.status_code == 200, watched.text


async def test_a_channel_is_adopted_as_noisy_by_one_conversation_only(stack: ApiStack) -> None:
    noisy = {"workspace": ACME, "mode": "noisy", "adopt": {"channel": GENERAL}}
    first = await stack.api.put("/conversations/room-1", json=noisy)
    assert first.status_code == 201, first.text
    again = await stack.api.put("/conversations/room-1", json=noisy)
    assert again.status_code == 200, again.text
    second = await stack.api.put("/conversations/room-2", json=noisy)
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "conversation_conflict"
    # Nor a channel a still conversation threads in.
    still = {"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}}
    assert (await stack.api.put("/conversations/thread-1", json=still)).status_code == 201
    over = await stack.api.put(
        "/conversations/room-3", json={**noisy, "adopt": {"channel": SUPPORT}}
    )
    assert over.status_code == 409, over.text
    assert (await stack.api.get("/conversations/room-2")).status_code == 404


async def test_dot_segments_are_no_keys_or_ids(stack: ApiStack) -> None:
    """``.`` and ``..`` would be resolved away by any HTTP client (``/conversations/..`` is
    ``/``), so they can't name a conversation, a message or a user."""
    still = {"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}}
    for dots in ("%2E", "%2E%2E"):
        answer = await stack.api.put(f"/conversations/{dots}", json=still)
        assert answer.status_code == 422, answer.text
        link = await stack.api.put(f"/user-links/{dots}", json={"workspace": ACME, "email": "a@b"})
        assert link.status_code == 422, link.text
    assert (await stack.api.put("/conversations/dots", json=still)).status_code == 201
    post = {"id": "..", "author": {"persona": {"name": "x"}}, "text": "hi"}
    answer = await stack.api.post("/conversations/dots/messages", json=post)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] == "id"
    async with Slackbridge(stack.gateway.url, API_KEY) as sb:
        for bad in (".", ".."):
            with pytest.raises(ValueError):
                await sb.conversations.get(bad)
            with pytest.raises(ValueError):
                await sb.conversations.get_message("dots", bad)
