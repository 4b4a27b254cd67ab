"""Who sees a message's metadata (``metadata={"event_type", "event_payload"}``), as Slack shows it.

- ``conversations.history`` / ``conversations.replies``: with ``include_all_metadata=true``
  every message carries its whole ``metadata``. Without it Slack leaves the ``event_type`` and
  strips the ``event_payload`` (what apps observe against Slack; the argument's documentation says
  only "return all metadata associated with this message").
- Events API ``message`` events (and ``message_changed``/``message_deleted``, ``app_mention``):
  the app that posted the message gets its metadata; another app gets it only when its manifest
  subscribes to that event type (``settings.event_subscriptions.metadata_subscriptions``:
  ``[{"app_id": "A…" or "*", "event_type": "…"}]``). Everyone else gets the message without
  ``metadata``.
- ``message_metadata_posted`` / ``_updated`` / ``_deleted`` go to apps subscribed to those bot
  events whose ``metadata_subscriptions`` match (built in ``events.py``).

Pure functions over rendered (JSON) messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["for_app", "for_history", "subscribes", "subscriptions_of"]

# Keys of an event that hold a rendered message (with a possible ``root`` inside).
_NESTED = ("message", "previous_message", "root")


def subscriptions_of(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    """``settings.event_subscriptions.metadata_subscriptions`` of a manifest (well-formed
    entries only)."""
    settings = manifest.get("settings")
    events = settings.get("event_subscriptions") if isinstance(settings, Mapping) else None
    raw = events.get("metadata_subscriptions") if isinstance(events, Mapping) else None
    if not isinstance(raw, list):
        return []
    return [
        {"app_id": str(s["app_id"]), "event_type": str(s["event_type"])}
        for s in raw
        if isinstance(s, Mapping)
        and isinstance(s.get("app_id"), str)
        and isinstance(s.get("event_type"), str)
    ]


def subscribes(
    subscriptions: Sequence[Mapping[str, str]], poster_app_id: str | None, event_type: str
) -> bool:
    """Whether ``subscriptions`` take metadata of ``event_type`` posted by ``poster_app_id``."""
    return any(
        s.get("event_type") == event_type and s.get("app_id") in ("*", poster_app_id)
        for s in subscriptions
    )


def for_history(rendered: dict[str, Any], *, include_all: bool) -> dict[str, Any]:
    """A message as conversations.history/replies return it: the payload only with
    ``include_all_metadata``."""
    if include_all:
        return rendered
    out = rendered
    meta = rendered.get("metadata")
    if isinstance(meta, dict) and "event_payload" in meta:
        out = {**rendered, "metadata": {"event_type": meta.get("event_type")}}
    root = rendered.get("root")
    if isinstance(root, dict):
        out = {**out, "root": for_history(root, include_all=False)}
    return out


def _visible(
    message: Mapping[str, Any], app_id: str, subscriptions: Sequence[Mapping[str, str]]
) -> bool:
    meta = message.get("metadata")
    if not isinstance(meta, Mapping):
        return True
    poster = message.get("app_id")
    return poster == app_id or subscribes(
        subscriptions, poster if isinstance(poster, str) else None, str(meta.get("event_type"))
    )


def for_app(
    event: dict[str, Any], app_id: str, subscriptions: Sequence[Mapping[str, str]]
) -> dict[str, Any]:
    """``event`` as the app ``app_id`` receives it: without the metadata of messages it did not
    post, unless it subscribes to their event type."""
    out = event
    if "metadata" in event and not _visible(event, app_id, subscriptions):
        out = {k: v for k, v in event.items() if k != "metadata"}
    for key in _NESTED:
        inner = event.get(key)
        if isinstance(inner, dict):
            shown = for_app(inner, app_id, subscriptions)
            if shown is not inner:
                out = {**out, key: shown}
    return out
