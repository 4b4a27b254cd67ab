"""Two gateways on one PostgreSQL: the first link of a product user, and the first cached
answer about an email, made by both at once, are one row, not an integrity error."""

from __future__ import annotations

import asyncio

import pytest

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.models import metadata
from slackbridge.store.store import Store

pytestmark = pytest.mark.postgres


async def test_concurrent_first_links_from_two_processes_make_one_row(
    pg_schema: tuple[str, str], keyring: Keyring
) -> None:
    url, schema = pg_schema
    one, two = open_database(url, schema=schema), open_database(url, schema=schema)
    try:
        async with one.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        stores = [Store(one, keyring), Store(two, keyring)]
        for round_ in range(5):
            links = await asyncio.gather(
                *(
                    s.user_links.put_link("T1", f"p{round_}", email=f"p{round_}@acme.test")
                    for s in stores
                    for _ in range(3)
                )
            )
            assert {link.product_user for link in links} == {f"p{round_}"}
            cached = await asyncio.gather(
                *(
                    s.user_links.remember_lookup("T1", f"c{round_}@acme.test", slack_user="U1")
                    for s in stores
                    for _ in range(3)
                )
            )
            assert {c.id for c in cached} == {cached[0].id}
    finally:
        await one.close()
        await two.close()
