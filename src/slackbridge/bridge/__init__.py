"""The conversation bridge (docs/bridge.md): product conversations as Slack threads or channels."""
