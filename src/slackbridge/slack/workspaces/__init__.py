"""Workspaces: apps, install (OAuth, signed links), tokens and their refresh, a workspace's life."""
