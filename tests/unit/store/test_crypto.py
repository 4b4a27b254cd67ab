"""The keyring: AES-GCM envelopes, purpose binding, rotation and the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from slackbridge.store.crypto import (
    KEY_FILE_NAME,
    DecryptionError,
    Keyring,
    SecretKeyError,
    generate_key,
)

PURPOSE = "installations.bot_token_enc:1"


def test_round_trip_and_no_plaintext_in_envelope() -> None:
    ring = Keyring.parse(generate_key())
    envelope = ring.encrypt("xoxb-secret-token", PURPOSE)
    assert b"xoxb" not in envelope
    assert ring.decrypt(envelope, PURPOSE) == "xoxb-secret-token"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    ring = Keyring.parse(generate_key())
    assert ring.encrypt("same", PURPOSE) != ring.encrypt("same", PURPOSE)


def test_unicode_survives() -> None:
    ring = Keyring.parse(generate_key())
    assert ring.decrypt(ring.encrypt("clé ✓ 秘密", PURPOSE), PURPOSE) == "clé ✓ 秘密"


def test_value_moved_to_another_row_or_column_fails() -> None:
    ring = Keyring.parse(generate_key())
    envelope = ring.encrypt("xoxb-1", PURPOSE)
    with pytest.raises(DecryptionError, match="integrity check"):
        ring.decrypt(envelope, "installations.bot_token_enc:2")
    with pytest.raises(DecryptionError, match="integrity check"):
        ring.decrypt(envelope, "installations.bot_refresh_token_enc:1")


def test_tampered_envelope_fails() -> None:
    ring = Keyring.parse(generate_key())
    envelope = bytearray(ring.encrypt("xoxb-1", PURPOSE))
    envelope[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(envelope), PURPOSE)


@pytest.mark.parametrize("garbage", [b"", b"\x01short", b"\x09" + bytes(40)])
def test_not_an_envelope(garbage: bytes) -> None:
    ring = Keyring.parse(generate_key())
    with pytest.raises(DecryptionError, match="not a slackbridge secret envelope"):
        ring.decrypt(garbage, PURPOSE)


def test_first_key_encrypts_all_keys_decrypt() -> None:
    old, new = generate_key(), generate_key()
    before = Keyring.parse(old).encrypt("xoxb-old", PURPOSE)
    rotated = Keyring.parse(f"{new}, {old}")
    assert rotated.decrypt(before, PURPOSE) == "xoxb-old"
    assert not rotated.is_current(before)
    after = rotated.reencrypt(before, PURPOSE)
    assert rotated.is_current(after)
    # Only the new key is needed once re-encrypted.
    assert Keyring.parse(new).decrypt(after, PURPOSE) == "xoxb-old"


def test_missing_key_error_says_what_to_do() -> None:
    envelope = Keyring.parse(generate_key()).encrypt("xoxb-1", PURPOSE)
    with pytest.raises(DecryptionError) as info:
        Keyring.parse(generate_key()).decrypt(envelope, PURPOSE)
    message = str(info.value)
    assert "add the old key to SLACKBRIDGE_SECRET_KEYS" in message
    assert PURPOSE in message


@pytest.mark.parametrize("bad", ["not-base64!!", "c2hvcnQ=", ""])
def test_bad_keys_are_refused_with_advice(bad: str) -> None:
    with pytest.raises(SecretKeyError, match=r"generate-key|empty"):
        Keyring.parse(bad)


def test_same_key_twice_is_refused() -> None:
    key = generate_key()
    with pytest.raises(SecretKeyError, match="same key twice"):
        Keyring.parse(f"{key},{key}")


def test_key_without_padding_is_accepted() -> None:
    key = generate_key()
    assert Keyring.parse(key.rstrip("=")).primary_key_id == Keyring.parse(key).primary_key_id


def test_repr_shows_no_key_material() -> None:
    key = generate_key()
    ring = Keyring.parse(key)
    assert key not in repr(ring)
    assert ring.primary_key_id in repr(ring)


def test_key_file_generated_with_mode_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Keyring.load(None, data_dir)
    path = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    envelope = first.encrypt("xoxb-1", PURPOSE)
    second = Keyring.load("", data_dir)  # empty setting counts as unset
    assert second.primary_key_id == first.primary_key_id
    assert second.decrypt(envelope, PURPOSE) == "xoxb-1"


def test_configured_keys_win_over_the_key_file(tmp_path: Path) -> None:
    key = generate_key()
    ring = Keyring.load(key, tmp_path)
    assert ring.primary_key_id == Keyring.parse(key).primary_key_id
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_corrupt_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("garbage\n")
    with pytest.raises(SecretKeyError, match=KEY_FILE_NAME):
        Keyring.load(None, tmp_path)


def test_digest_is_stable_keyed_and_bound_to_its_purpose() -> None:
    ring = Keyring([b"k" * 32])
    value = "https://bob:hunter2@h.example/x"
    digest = ring.digest(value, "webhook_endpoints.url")
    assert digest == ring.digest(value, "webhook_endpoints.url")
    assert len(digest) == 64 and "hunter2" not in digest
    assert digest != ring.digest(value, "other.column")
    assert digest != Keyring([b"o" * 32]).digest(value, "webhook_endpoints.url")
    # The first key digests, like it encrypts.
    assert Keyring([b"k" * 32, b"o" * 32]).digest(value, "webhook_endpoints.url") == digest
