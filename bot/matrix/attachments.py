"""Encrypted Matrix files, decrypted on disk a chunk at a time.

matrix-nio decrypts an attachment whole in memory; a 50 MB video from an encrypted
room would cost that much RAM twice over. Here the downloaded ciphertext is checked
against its SHA-256 and decrypted in place (AES-CTR keeps the length), chunk by
chunk, with the same counter construction as nio (64-bit counter after the IV's
first half). A file whose hash does not match is refused: nothing of it is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES
from Crypto.Util import Counter

CHUNK = 64 * 1024


class BadAttachment(ValueError):
    """The file does not match what its event says (hash, key or iv unreadable)."""


def _unpadded_b64(value: str) -> bytes:
    """Matrix's unpadded base64, in the standard alphabet or (a JWK key) the URL-safe one."""
    urlsafe = value.replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(urlsafe + "=" * (-len(value) % 4))


def decrypt_in_place(path: Path, file_info: dict[str, Any]) -> None:
    """Decrypt ``path`` (as downloaded) with the ``file`` object of its event."""
    try:
        key = _unpadded_b64(file_info["key"]["k"])
        iv = _unpadded_b64(file_info["iv"])
        expected = _unpadded_b64(file_info["hashes"]["sha256"])
        cipher = AES.new(key, AES.MODE_CTR, counter=Counter.new(
            64, prefix=iv[:8], initial_value=int.from_bytes(iv[8:16], "big")))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadAttachment(f"the file's keys cannot be read ({type(exc).__name__})") from None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    if not hmac.compare_digest(digest.digest(), expected):
        raise BadAttachment("the file does not match its SHA-256 hash")
    with path.open("r+b") as fh:
        while chunk := fh.read(CHUNK):
            fh.seek(-len(chunk), 1)
            fh.write(cipher.decrypt(chunk))
