"""GET /api/v1/files/{team}/{file_id}/content streams a Slack file the product can't fetch."""

from __future__ import annotations

import base64
import os

import httpx
import pytest

from tests.integration.gateway.api.conftest import ACME, ALICE, GENERAL, ApiStack


@pytest.fixture
def stack(inbound: ApiStack) -> ApiStack:
    return inbound


async def _share(stack: ApiStack, content: bytes, name: str = "report.bin") -> dict[str, object]:
    async with httpx.AsyncClient(timeout=20.0) as control:
        answer = await control.post(
            stack.emulator.url + "/_emulator/files",
            json={
                "channel_id": GENERAL,
                "user_id": ALICE,
                "filename": name,
                "content_base64": base64.b64encode(content).decode(),
            },
        )
    assert answer.status_code == 200, answer.text
    file: dict[str, object] = answer.json()["file"]
    return file


async def test_a_shared_file_streams_with_its_type_and_length(stack: ApiStack) -> None:
    content = os.urandom(300_000)  # several chunks
    file = await _share(stack, content)
    async with stack.api.stream("GET", f"/files/{ACME}/{file['id']}/content") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-length"] == str(len(content))
        assert answer.headers["content-type"] == str(file["mimetype"])
        chunks = [chunk async for chunk in answer.aiter_raw()]
    assert b"".join(chunks) == content
    # The bot token went to Slack's file host, never to the caller.
    assert all("xoxb" not in value for value in answer.headers.values())


async def test_unknown_files_are_404_and_bad_ids_422(stack: ApiStack) -> None:
    answer = await stack.api.get(f"/files/{ACME}/F0NOSUCHFILE/content")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "file_not_found"
    bad = await stack.api.get(f"/files/{ACME}/not-a-file/content")
    assert bad.status_code == 422
    elsewhere = await stack.api.get("/files/T0NOWHERE1/F0NOSUCHFILE/content")
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "workspace_not_found"


async def test_the_route_needs_an_api_key(stack: ApiStack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway.url) as anonymous:
        answer = await anonymous.get(f"/api/v1/files/{ACME}/F0NOSUCHFILE/content")
    assert answer.status_code == 401
