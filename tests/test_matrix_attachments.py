"""An encrypted Matrix file is decrypted on disk, chunk by chunk, as nio would in memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nio.crypto.attachments import encrypt_attachment

from bot.matrix.attachments import CHUNK, BadAttachment, decrypt_in_place


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 17])
def test_decrypts_what_nio_encrypted(tmp_path: Path, size: int):
    plain = os.urandom(size)
    cipher, info = encrypt_attachment(plain)
    path = tmp_path / "file"
    path.write_bytes(cipher)
    decrypt_in_place(path, info)
    assert path.read_bytes() == plain


def test_a_file_that_does_not_match_its_hash_is_refused(tmp_path: Path):
    cipher, info = encrypt_attachment(b"the real statement")
    path = tmp_path / "file"
    path.write_bytes(bytes([cipher[0] ^ 0xFF]) + cipher[1:])  # "X" was the first byte 1 in 256
    with pytest.raises(BadAttachment, match="SHA-256"):
        decrypt_in_place(path, info)


def test_unreadable_keys_are_refused_with_a_reason(tmp_path: Path):
    path = tmp_path / "file"
    path.write_bytes(b"x")
    with pytest.raises(BadAttachment, match="keys cannot be read"):
        decrypt_in_place(path, {"iv": "AAAA", "hashes": {}})
