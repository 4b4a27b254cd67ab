"""Imports every Web API method module so that each registers its methods.

To add methods, create a module under ``webapi/`` and import it here.
"""

from __future__ import annotations

from slackbridge.emulator.webapi import (  # noqa: F401
    apps,
    assistant,
    auth,
    bookmarks,
    chat,
    conversations,
    conversations_manage,
    files,
    oauth,
    openid,
    pins,
    reactions,
    scheduled,
    streams,
    team,
    usergroups,
    users,
    views,
)

__all__ = ["LOADED"]

LOADED = True
