"""A faithful Slack emulator: Web API, OAuth, Events API delivery, Socket Mode, control API."""
