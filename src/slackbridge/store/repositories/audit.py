"""The audit log: who did what to which workspace, and when."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import AuditLogRow, table_of
from slackbridge.store.repositories._base import Repository

__all__ = ["AuditEntry", "AuditRepository"]

_T = table_of(AuditLogRow)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    team_id: str | None
    detail: dict[str, Any]


def _to_entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]),
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        team_id=row["team_id"],
        detail=dict(row["detail"] or {}),
    )


class AuditRepository(Repository):
    """Append to and read the audit log (never put secrets in ``detail``)."""

    async def record(
        self,
        action: str,
        *,
        actor: str,
        team_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
        session: AsyncSession | None = None,
    ) -> AuditEntry:
        """Append an entry, e.g. ``record("workspace.removed", actor="cli", team_id="T1")``."""
        stmt = (
            _T.insert()
            .values(
                at=self._clock(),
                actor=actor,
                action=action,
                team_id=team_id,
                detail=dict(detail or {}),
            )
            .returning(*_T.c)
        )
        async with self._tx(session) as tx:
            row = (await tx.execute(stmt)).mappings().one()
        return _to_entry(row)

    async def list(
        self,
        *,
        team_id: str | None = None,
        action: str | None = None,
        limit: int = 100,
        session: AsyncSession | None = None,
    ) -> builtins.list[AuditEntry]:
        """The newest entries first."""
        conditions: builtins.list[ColumnElement[bool]] = []
        if team_id is not None:
            conditions.append(_T.c.team_id == team_id)
        if action is not None:
            conditions.append(_T.c.action == action)
        stmt = select(_T).where(*conditions).order_by(_T.c.id.desc()).limit(limit)
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_entry(r) for r in rows]
