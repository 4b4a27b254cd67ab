"""slackbridge: a self-hosted Slack integration gateway with a faithful Slack emulator."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
