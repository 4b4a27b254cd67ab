"""Repositories: every query of slackbridge lives in these modules, one per aggregate.

Each takes a :class:`~slackbridge.store.db.Database` and a
:class:`~slackbridge.store.crypto.Keyring`, encrypts and decrypts secrets transparently and
returns plain frozen dataclasses. :class:`slackbridge.store.store.Store` bundles them all.
"""
