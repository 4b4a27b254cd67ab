"""Constants of the default seed and a Web API call helper for emulator tests."""

from __future__ import annotations

from typing import Any

import httpx

ACME = "T0ACME0001"
GLOBEX = "T0GLBX0001"
ALICE, BOB, CAROL, DAVE = "U0ACME0001", "U0ACME0002", "U0ACME0003", "U0ACME0004"
GENERAL, SUPPORT, STAFF = "C0ACME0GEN", "C0ACME0SUP", "G0ACME0STF"
DM_ALICE_BOB = "D0ACME0001"


async def call(
    client: httpx.AsyncClient, method: str, token: str | None = None, **args: Any
) -> dict[str, Any]:
    """POST ``method`` with form arguments and a bearer token; the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    form = {k: str(v) for k, v in args.items() if v is not None}
    response = await client.post(f"/api/{method}", data=form, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
