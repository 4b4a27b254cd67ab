"""The ports' defaults: a gateway that was never composed tells no one and calls no one."""

from __future__ import annotations

import pytest

from slackbridge.domain.events import DomainEvent
from slackbridge.ports import Ports, WorkspaceUnavailable
from slackbridge.slack.workspaces import lifecycle, tokens


async def test_uncomposed_ports_are_inert() -> None:
    ports = Ports()
    event = DomainEvent(
        type="workspace.installed",
        team_id="T1",
        app_id=None,
        data={},
        ordering_key="workspace:1",
        dedupe_key="workspace.installed:1",
        occurred_at=0.0,
    )
    assert await ports.notify([event]) == 0
    with pytest.raises(WorkspaceUnavailable) as raised:
        await ports.bot_token("T1", None)
    assert raised.value.status == "not_installed"
    assert await ports.user_token("T1", "U1", None) is None
    assert await ports.report_token_error("T1", None, "invalid_auth") is False
    assert await ports.reserve_shared_call("A1", "apps.connections.open", None) == 0.0
    assert await ports.reserve_call("T1", "auth.test", 0.0) == 0.0


def test_the_workspaces_edge_raises_the_ports_errors() -> None:
    # Callers catch them under any of these names; they are one class each.
    assert lifecycle.WorkspaceUnavailable is tokens.WorkspaceUnavailable is WorkspaceUnavailable
