"""World operations on people: a profile change, announced as ``user_change``."""

from __future__ import annotations

from collections.abc import Mapping

from slackbridge.emulator.state import EmulatorState, Signal, User

__all__ = ["PROFILE_FIELDS", "change_user"]

# Fields a profile change may set (User attributes of the same name).
PROFILE_FIELDS = (
    "real_name",
    "display_name",
    "title",
    "status_text",
    "status_emoji",
    "email",
    "tz",
)


def change_user(state: EmulatorState, user: User, changes: Mapping[str, str]) -> bool:
    """Apply ``changes`` (keys from :data:`PROFILE_FIELDS`) to ``user``; when anything changed,
    emit ``user_change`` (Slack sends it to apps subscribed to it, scope ``users:read``) and
    return True."""
    changed = False
    for key, value in changes.items():
        if key not in PROFILE_FIELDS:
            raise ValueError(f"{key}: not a profile field")
        if getattr(user, key) != value:
            setattr(user, key, value)
            changed = True
    if changed:
        state.emit(Signal(kind="user_change", team_id=user.team_id, data={"user_id": user.id}))
    return changed
