"""The store in one object: the database, the keyring and every repository over them."""

from __future__ import annotations

from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories._base import Clock
from slackbridge.store.repositories.api_keys import ApiKeysRepository
from slackbridge.store.repositories.apps import AppsRepository
from slackbridge.store.repositories.audit import AuditRepository
from slackbridge.store.repositories.bridge_conversations import ConversationsRepository
from slackbridge.store.repositories.bridge_messages import MessagesRepository
from slackbridge.store.repositories.bridge_users import UserLinksRepository
from slackbridge.store.repositories.deliveries import DeliveriesRepository
from slackbridge.store.repositories.endpoints import EndpointsRepository
from slackbridge.store.repositories.inbox import InboxRepository
from slackbridge.store.repositories.installations import InstallationsRepository
from slackbridge.store.repositories.oauth_states import OAuthStatesRepository
from slackbridge.store.repositories.outbox import OutboxRepository
from slackbridge.store.repositories.users import UsersRepository
from slackbridge.store.repositories.watched_channels import WatchedChannelsRepository
from slackbridge.store.rotation import RotationProgress, RotationReport, rotate_all

__all__ = ["Store", "keyring_from_settings", "open_store"]


def keyring_from_settings(settings: Settings, *, create: bool = True) -> Keyring:
    """``SLACKBRIDGE_SECRET_KEYS``, or the key file in the data dir (generated when missing,
    unless ``create`` is false)."""
    keys = settings.secret_keys.get_secret_value() if settings.secret_keys else None
    return Keyring.load(keys, settings.data_dir, create=create)


async def open_store(
    settings: Settings, *, pool_size: int = 10, create_key: bool = True, migrate: bool = True
) -> tuple[Database, Keyring]:
    """The configured database (migrated to the newest schema unless told not to) and keys:
    how every process opens the store (the server, the CLI, :class:`Store`). The caller closes
    the database."""
    keyring = keyring_from_settings(settings, create=create_key)
    db = open_database(
        settings.effective_database_url, schema=settings.database_schema, pool_size=pool_size
    )
    try:
        if migrate:
            await upgrade_database(db)
    except BaseException:
        await db.close()
        raise
    return db, keyring


class Store:
    """Every repository, sharing one database, keyring and clock.

    ``clock`` decides "now" for leases, expiries and timestamps (tests pass a fake one).
    """

    def __init__(self, db: Database, keyring: Keyring, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock
        self.apps = AppsRepository(db, keyring, clock)
        self.installations = InstallationsRepository(db, keyring, clock)
        self.oauth_states = OAuthStatesRepository(db, keyring, clock)
        self.audit = AuditRepository(db, keyring, clock)
        self.inbox = InboxRepository(db, keyring, clock)
        self.endpoints = EndpointsRepository(db, keyring, clock)
        self.deliveries = DeliveriesRepository(db, keyring, clock)
        self.outbox = OutboxRepository(db, keyring, clock)
        self.api_keys = ApiKeysRepository(db, keyring, clock)
        self.users = UsersRepository(db, keyring, clock)
        self.conversations = ConversationsRepository(db, keyring, clock)
        self.bridge_messages = MessagesRepository(db, keyring, clock)
        self.user_links = UserLinksRepository(db, keyring, clock)
        self.watched_channels = WatchedChannelsRepository(db, keyring, clock)

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True) -> Store:
        """Open the configured database (migrating it to the newest schema unless told not to)."""
        db, keyring = await open_store(settings, migrate=migrate)
        return cls(db, keyring)

    async def rotate_secrets(self, *, progress: RotationProgress | None = None) -> RotationReport:
        """Re-encrypt every secret under the first key (see :mod:`slackbridge.store.rotation`)."""
        return await rotate_all(self.db, self.keyring, progress=progress)

    async def close(self) -> None:
        await self.db.close()
