"""Operator actions: what the CLI, the product API and (later) the operator console do to
workspaces, apps, deliveries, API keys and secrets, written once.

Each module is one concept. Its functions take what they need as arguments (a
:class:`~slackbridge.store.db.Database`, a :class:`~slackbridge.store.crypto.Keyring`, the
:class:`~slackbridge.settings.Settings`) and, for anything that belongs to an edge (revoking a
workspace's tokens at Slack, provisioning an app through Slack's manifest API, forgetting a
cache of the running process), a port: a callable the caller passes in. They return typed
results (frozen dataclasses, or the store's own) and refuse with the typed errors of
:mod:`slackbridge.operations.errors`, which the CLI turns into a message and a non-zero exit and
the API into an error answer with the right HTTP status.

They import neither the CLI, the API nor ``server.py`` (an import-linter contract checks it), so
that every front end calls the same code and none depends on another.
"""
