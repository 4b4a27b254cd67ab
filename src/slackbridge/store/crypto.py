"""Secrets at rest: AES-256-GCM envelopes under a keyring with rotation.

``SLACKBRIDGE_SECRET_KEYS`` is a comma-separated list of urlsafe-base64 32-byte keys. The first
key encrypts; every key decrypts. When the setting is absent, a key is generated once into
``<data_dir>/secret.key`` (mode 0600) and loaded from there on later starts.

An envelope is ``version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext + tag``.
The key id (a digest of the key, never the key) lets decryption pick the right key after a
rotation. Each value is encrypted with *associated data* naming what it is (for example
``installations.bot_token_enc:42``), so a ciphertext copied into another column or row fails to
decrypt instead of silently becoming someone else's token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from slackbridge.store.files import make_private_dir

__all__ = [
    "KEY_FILE_NAME",
    "DecryptionError",
    "Keyring",
    "SecretKeyError",
    "generate_key",
]

KEY_FILE_NAME = "secret.key"
_VERSION = 1
_KEY_ID_LEN = 4
_NONCE_LEN = 12
_HEADER_LEN = 1 + _KEY_ID_LEN + _NONCE_LEN
_TAG_LEN = 16


class SecretKeyError(ValueError):
    """A configured secret key is unusable; the message says how to fix the setting."""


class DecryptionError(ValueError):
    """A stored value can't be decrypted with the configured keys."""


def generate_key() -> str:
    """A new random key, urlsafe-base64 encoded, ready for ``SLACKBRIDGE_SECRET_KEYS``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"slackbridge-key-id:" + key).digest()[:_KEY_ID_LEN]


def _decode_key(text: str, position: int) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise SecretKeyError(
            f"secret key #{position} is not a urlsafe-base64 encoded 32-byte key; "
            "generate one with `slackbridge secrets generate-key`"
        )
    return raw


@dataclass(frozen=True)
class _Key:
    key_id: bytes
    aead: AESGCM


class Keyring:
    """The keys that protect secrets at rest: the first encrypts, all decrypt."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("at least one secret key is needed")
        self._keys = [_Key(_key_id(k), AESGCM(k)) for k in keys]
        # Keys for other purposes (signing install links, OAuth states) are derived from these,
        # so that no second secret has to be configured, shared between instances and rotated.
        self._derive_from = [hashlib.sha256(b"slackbridge-derive:" + k).digest() for k in keys]
        ids = [k.key_id for k in self._keys]
        if len(set(ids)) != len(ids):
            raise SecretKeyError("SLACKBRIDGE_SECRET_KEYS lists the same key twice")

    def __repr__(self) -> str:
        return f"Keyring(keys={len(self._keys)}, primary={self.primary_key_id})"

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """Build a keyring from a comma-separated list of keys (whitespace is ignored)."""
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts:
            raise SecretKeyError(
                "SLACKBRIDGE_SECRET_KEYS is empty; set it to one or more keys from "
                "`slackbridge secrets generate-key`, or unset it to use the generated key file"
            )
        return cls([_decode_key(p, i + 1) for i, p in enumerate(parts)])

    @classmethod
    def load(cls, secret_keys: str | None, data_dir: Path, *, create: bool = True) -> Keyring:
        """The configured keys, or those in ``<data_dir>/secret.key`` (created when missing,
        unless ``create`` is false: a command that only reads the store never makes a key)."""
        if secret_keys is not None and secret_keys.strip():
            return cls.parse(secret_keys)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            if not create:
                raise SecretKeyError(
                    f"no secret key: {path} does not exist and SLACKBRIDGE_SECRET_KEYS is not set"
                )
            _write_key_file(path, generate_key())
        try:
            return cls.parse(path.read_text(encoding="ascii"))
        except (SecretKeyError, UnicodeDecodeError) as exc:
            raise SecretKeyError(f"{path} does not hold a valid key ({exc})") from None

    @property
    def primary_key_id(self) -> str:
        """Hex id of the key that encrypts (safe to show; it is a digest, not the key)."""
        return self._keys[0].key_id.hex()

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id.hex() for k in self._keys]

    def derived_keys(self, purpose: str) -> list[bytes]:
        """32-byte keys for ``purpose`` (e.g. ``"install-link"``), one per configured key in the
        same order: sign with the first, accept any (so that a rotation keeps what was signed
        before it valid). Different purposes get unrelated keys; none reveals the keyring."""
        label = purpose.encode("utf-8")
        return [hmac.new(base, label, hashlib.sha256).digest() for base in self._derive_from]

    def encrypt(self, plaintext: str, purpose: str) -> bytes:
        """Encrypt ``plaintext`` under the first key, bound to ``purpose`` (its column and row)."""
        key = self._keys[0]
        nonce = os.urandom(_NONCE_LEN)
        sealed = key.aead.encrypt(nonce, plaintext.encode("utf-8"), purpose.encode("utf-8"))
        return bytes([_VERSION]) + key.key_id + nonce + sealed

    def decrypt(self, envelope: bytes, purpose: str) -> str:
        """Decrypt an envelope made by :meth:`encrypt` for the same ``purpose``."""
        key_id = self.key_id_of(envelope)
        key = next((k for k in self._keys if k.key_id == key_id), None)
        if key is None:
            raise DecryptionError(
                f"no configured key can decrypt {purpose} (it was encrypted with key id "
                f"{key_id.hex()}); add the old key to SLACKBRIDGE_SECRET_KEYS (after the new one)"
            )
        nonce = envelope[1 + _KEY_ID_LEN : _HEADER_LEN]
        try:
            plain = key.aead.decrypt(nonce, envelope[_HEADER_LEN:], purpose.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"{purpose} failed its integrity check: the stored value was altered or copied "
                "from another column or row; store the secret again"
            ) from None
        return plain.decode("utf-8")

    def digest(self, value: str, purpose: str) -> str:
        """A keyed digest (HMAC-SHA256, hex) of ``value`` under the first key, for looking a
        secret value up or keeping it unique without storing it: without the key, the digest
        of a low-entropy secret (a password in a URL) can't be guessed offline."""
        message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.new(self.derived_keys("digest")[0], message, hashlib.sha256).hexdigest()

    def key_id_of(self, envelope: bytes) -> bytes:
        """The key id an envelope was made with (checks the envelope's shape)."""
        if len(envelope) < _HEADER_LEN + _TAG_LEN or envelope[0] != _VERSION:
            raise DecryptionError(
                "stored value is not a slackbridge secret envelope (wrong version or truncated)"
            )
        return envelope[1 : 1 + _KEY_ID_LEN]

    def is_current(self, envelope: bytes) -> bool:
        """Whether the envelope is already under the first (encrypting) key."""
        return self.key_id_of(envelope) == self._keys[0].key_id

    def reencrypt(self, envelope: bytes, purpose: str) -> bytes:
        """The same secret under the first key (with a fresh nonce)."""
        return self.encrypt(self.decrypt(envelope, purpose), purpose)


def _write_key_file(path: Path, key: str) -> None:
    make_private_dir(path.parent)
    # O_EXCL: if another process created it a moment ago, keep theirs.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
