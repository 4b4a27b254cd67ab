"""The store: slackbridge's database and everything written to it.

- ``db``: the async engine and sessions (SQLite in WAL mode, or PostgreSQL).
- ``models*``: the tables; ``migrations`` + ``migrate``: their Alembic migrations.
- ``crypto``: the AES-GCM keyring that encrypts every secret at rest; ``rotation``: re-encryption.
- ``queue``: the one lease-based claiming mechanism of the inbox, deliveries and outbox.
- ``repositories``: every query, one module per aggregate; ``store.Store`` bundles them.

Nothing is imported here, so that importing a submodule stays cheap (the CLI relies on it).
"""
