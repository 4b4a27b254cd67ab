"""Where an API key may act: the workspaces it may touch and the operations it may see.

A key restricted to workspaces (team ids) or install refs may touch a workspace whose team id it
lists, or one where an installation carries one of its refs. Anything else answers 403
``workspace_forbidden``, also for a workspace slackbridge doesn't know, so that a restricted key
can't probe which workspaces exist.

Operations (outbox rows) record the key that queued them. A key sees, edits and deletes only its
own operations, unless it has ``admin``; rows without a recorded key (queued by the gateway
itself, or before keys were recorded) belong to every key of their workspace. Any operation the
key may not see answers 404 ``message_not_found``, exactly like an unknown id: ids are handed
out by the API, so saying "it exists, but not for you" would only help guessing.
"""

from __future__ import annotations

from slackbridge.api.auth import Caller
from slackbridge.api.errors import ApiError
from slackbridge.runtime import Gateway
from slackbridge.slack.workspaces.lifecycle import installations_repo
from slackbridge.store.repositories.outbox import OutboxMessage

__all__ = ["may_see", "may_touch", "require_workspace"]


async def may_touch(gateway: Gateway, caller: Caller, team_id: str) -> bool:
    """Whether ``caller``'s key may act in workspace ``team_id``."""
    access = caller.access
    if access.everywhere or team_id in access.team_ids:
        return True
    if not access.product_refs:
        return False
    installs = await installations_repo(gateway).list(team_id=team_id)
    return access.covers(team_id, (inst.product_ref for inst in installs))


async def require_workspace(gateway: Gateway, caller: Caller, team_id: str) -> None:
    """403 ``workspace_forbidden`` unless ``caller``'s key may act in ``team_id``."""
    if not await may_touch(gateway, caller, team_id):
        raise ApiError(
            "workspace_forbidden",
            f"this API key may not act in workspace {team_id} "
            "(see its workspaces and refs with: slackbridge apikey list)",
        )


async def may_see(gateway: Gateway, caller: Caller, row: OutboxMessage) -> bool:
    """Whether ``caller`` may read (and change) the operation ``row``."""
    owned = row.created_by is None or row.created_by == caller.scope
    if not owned and not caller.is_admin:
        return False
    return await may_touch(gateway, caller, row.team_id)
