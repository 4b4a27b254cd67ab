"""Imports every Web API method module so that each registers its methods.

To add methods, create a module under ``webapi/`` and import it here.
"""

from __future__ import annotations

from slackbridge.emulator.webapi import (  # noqa: F401
    apps,
    auth,
    chat,
    conversations,
    files,
    oauth,
    reactions,
    team,
    users,
    views,
)

__all__ = ["LOADED"]

LOADED = True
