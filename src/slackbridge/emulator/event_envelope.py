"""The Events API envelope and who receives an event: the pieces ``events.py`` (and the
workspace-wide and metadata events of ``events_more.py``) build deliveries from.

An app receives an event through its bot user when it subscribes to it as a bot event (and its
bot is in the channel, for channel events), else through an installing person's user token
subscribed to it as a user event (the envelope's ``authorizations`` then names that person).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from slackbridge.emulator.state import App, Channel, EmulatorState, Installation

__all__ = ["Routed", "Target", "envelope", "subscribers"]


@dataclass
class Routed:
    """One envelope for one app installation."""

    app: App
    installation: Installation
    envelope: dict[str, Any]


def _event_context(team_id: str, app_id: str, event_type: str, channel_id: str | None) -> str:
    # Slack's event_context is an opaque token; this one encodes the same facts it carries.
    raw = {"et": event_type, "tid": team_id, "aid": app_id, "cid": channel_id}
    encoded = base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")
    return f"4-{encoded}"


def envelope(
    state: EmulatorState,
    app: App,
    inst: Installation,
    event: dict[str, Any],
    channel_id: str | None = None,
    authorizer: str | None = None,
) -> dict[str, Any]:
    """Wrap ``event`` in the ``event_callback`` envelope Slack sends to ``app``.

    ``authorizations`` names the app's bot user, or ``authorizer`` (a person whose user token
    subscribed to the event) when given."""
    team_id = inst.team_id
    ws = state.workspace(team_id)
    enterprise_id = ws.enterprise_id if ws else None
    return {
        "token": app.verification_token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": app.id,
        "event": event,
        "type": "event_callback",
        "event_id": state.ids.event_id(),
        "event_time": int(state.now()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": authorizer or inst.bot_user_id,
                "is_bot": authorizer is None,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": _event_context(team_id, app.id, event.get("type", ""), channel_id),
    }


# One receiver: the app, its installation, and the person authorizing (None: the bot).
Target = tuple[App, Installation, str | None]


def subscribers(
    state: EmulatorState, team_id: str, event_name: str, channel: Channel | None
) -> list[Target]:
    """Apps to tell about ``event_name``: through their bot user when it subscribes (and sees the
    channel), else through an installing person's user token subscribed to it as a user event."""
    out: list[Target] = []
    for inst in state.active_installations(team_id):
        app = state.apps.get(inst.app_id)
        if app is None:
            continue
        if event_name in app.bot_events and (
            channel is None or inst.bot_user_id in channel.members
        ):
            out.append((app, inst, None))
            continue
        if event_name in app.user_events and event_name != "app_mention":
            person = next(
                (u for u in inst.user_tokens if channel is None or u in channel.members), None
            )
            if person is not None:
                out.append((app, inst, person))
    return out
