"""A faithful Slack emulator: Web API, OAuth, Events API delivery, Socket Mode, control API."""

from __future__ import annotations

from slackbridge.emulator.app import create_app

__all__ = ["create_app"]
