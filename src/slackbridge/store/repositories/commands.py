"""The product's declared commands, as declared (one list per source: config, api)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import CommandSetRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert

__all__ = ["CommandsRepository"]

_T = table_of(CommandSetRow)


class CommandsRepository(Repository):
    """Read all declared commands; replace the list of one source."""

    async def all(self, *, session: AsyncSession | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every source's declarations, by source."""
        async with self._read(session) as s:
            rows = (await s.execute(select(_T))).mappings().all()
        return {row["source"]: [dict(c) for c in row["commands"] or []] for row in rows}

    async def replace(
        self,
        source: str,
        commands: Sequence[Mapping[str, Any]],
        *,
        session: AsyncSession | None = None,
    ) -> None:
        """Make ``source``'s declarations exactly ``commands``."""
        values = {"commands": [dict(c) for c in commands], "updated_at": self._clock()}
        stmt = (
            dialect_insert(self._db, _T)
            .values(source=source, **values)
            .on_conflict_do_update(index_elements=["source"], set_=values)
        )
        async with self._tx(session) as tx:
            await tx.execute(stmt)
