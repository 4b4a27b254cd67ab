"""What the Calls example asks of Slack, all through slackbridge's product API.

- **Has this person authorized?** ``auth.test`` through the pass-through ``as_user``: slackbridge
  answers ``user_token_missing`` when it holds no user token for them in that workspace.
- **Who is in the channel?** ``conversations.members`` with the person's own token, every page
  (the bot may not be in the channel, and can't read a private channel, DM or group DM it is not
  in; the person who ran ``/call`` is in it by definition), then each member through
  ``GET /workspaces/{team}/users/{user}`` (``users.info`` with the bot token, cached by the
  gateway; the email needs ``users:read.email``).
"""

from __future__ import annotations

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.calls.records import Directory, Member

__all__ = ["DEAD_TOKEN_ERRORS", "SlackProblem", "channel_members", "has_user_token"]

#: The person must authorize again: Slack's answers for a user token that no longer works, and
#: slackbridge's when it holds none (any more: revoked in Slack, say).
DEAD_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "account_inactive", "token_revoked", "token_expired", "user_token_missing"}
)
_MAX_PAGES = 100


class SlackProblem(Exception):
    """Slack (or slackbridge) refused a call; ``code`` is the error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def has_user_token(client: Slackbridge, team_id: str, user_id: str) -> bool:
    """Whether slackbridge holds a working user token of ``user_id`` in ``team_id``."""
    try:
        answer = await client.slack.call(team_id, "auth.test", {}, as_user=user_id)
    except SlackbridgeError as exc:
        if exc.code == "user_token_missing":
            return False
        raise SlackProblem(exc.code, exc.message) from exc
    if answer.get("ok"):
        return answer.get("user_id") == user_id
    if answer.get("error") in DEAD_TOKEN_ERRORS:
        return False
    raise SlackProblem(str(answer.get("error")), f"auth.test answered {answer.get('error')}")


async def _member_ids(
    client: Slackbridge, team_id: str, channel_id: str, user_id: str, page_size: int
) -> list[str]:
    ids: list[str] = []
    cursor = ""
    for _ in range(_MAX_PAGES):
        args: dict[str, object] = {"channel": channel_id, "limit": page_size}
        if cursor:
            args["cursor"] = cursor
        try:
            answer = await client.slack.call(
                team_id, "conversations.members", args, as_user=user_id
            )
        except SlackbridgeError as exc:
            raise SlackProblem(exc.code, exc.message) from exc
        if not answer.get("ok"):
            error = str(answer.get("error") or "unknown_error")
            raise SlackProblem(error, f"conversations.members answered {error}")
        ids.extend(str(m) for m in answer.get("members") or [])
        cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            break
    return list(dict.fromkeys(ids))


async def channel_members(
    client: Slackbridge,
    directory: Directory,
    team_id: str,
    channel_id: str,
    user_id: str,
    *,
    page_size: int = 200,
) -> list[Member]:
    """The channel's members, each with their email and the service's account of that email."""
    members: list[Member] = []
    for member_id in await _member_ids(client, team_id, channel_id, user_id, page_size):
        try:
            person = await client.users.info(team_id, member_id)
        except SlackbridgeError as exc:
            raise SlackProblem(exc.code, exc.message) from exc
        name = person.real_name or person.display_name or person.name or member_id
        members.append(
            Member(
                member_id,
                name,
                person.email,
                person.is_bot,
                None if person.is_bot else directory.by_email(person.email),
            )
        )
    return members
