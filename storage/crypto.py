"""The data keys: what encrypts confidential text before it reaches the database.

A copy of the database (a backup, a stolen disk, a PostgreSQL dump) must not
reveal who is at risk, so case summaries and details, timeline notes, outbox
texts and the Matrix access token are stored sealed with a Fernet key
(AES-128-CBC with HMAC-SHA256, from ``cryptography``). Several keys may be given,
newest first: the first seals, all of them open (``MultiFernet``), so a key can be
rotated without a pause (``caucus-bot keys rotate``).

The keyring is process-wide, set once at start (``set_data_keys``): column types
are built once per model and cannot be handed a key per session.

Stored forms:

- ``enc:1:<Fernet token>``: sealed with a data key;
- ``enc:0:<text>``: clear text that itself begins with ``enc:``, written without a
  key (so it cannot be taken for a sealed value);
- anything else: clear text, written without a key (or before there was one);
  it is read as it is, and sealed by ``caucus-bot keys rotate``.

Nothing here imports from ``bot``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Said at start, by check-config and by /bridge status while there is no key.
UNENCRYPTED_WARNING = (
    "no data key: case summaries, details and notes, relayed messages, web signers' names and "
    "e-mails and the Matrix access token are stored unencrypted. Make a key with `caucus-bot "
    "keys new` and set it in CAUCUS_DATA_KEY (or [privacy].key_file), then run `caucus-bot "
    "keys rotate`.")
SEALED = "enc:1:"
ESCAPED = "enc:0:"
MARK = "enc:"  # what both forms begin with: the one test on the per-message path


class DataKeyError(Exception):
    """A data key that is not one, or sealed text that no data key given opens."""


_keyring: MultiFernet | None = None


def new_key() -> str:
    """A fresh random data key, as text (44 characters of URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> tuple[str, ...]:
    """Comma-separated keys, newest first; raises DataKeyError without repeating a key."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise DataKeyError("no key given")
    for n, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            which = f"key {n} of {len(keys)}" if len(keys) > 1 else "the key"
            raise DataKeyError(f"{which} is not a data key (44 characters of URL-safe base64; "
                               "make one with `caucus-bot keys new`)") from None
    return keys


def set_data_keys(keys: str | Sequence[str] | None) -> None:
    """Use these keys (newest first) from now on; None or empty: store text in clear."""
    global _keyring
    if isinstance(keys, str):
        keys = parse_keys(keys)
    if not keys:
        _keyring = None
        return
    _keyring = MultiFernet([Fernet(k) for k in keys])


def clear_data_keys() -> None:
    set_data_keys(None)


def has_data_key() -> bool:
    return _keyring is not None


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def seal(text: str) -> str:
    """The stored form of a text: sealed with the first key, or in clear without a key."""
    if _keyring is not None:
        return SEALED + _keyring.encrypt(text.encode("utf-8")).decode("ascii")
    if text.startswith(MARK):
        return ESCAPED + text
    return text


def unseal(stored: str) -> str:
    """The text of a stored form; raises DataKeyError when no key given opens it.

    Sealed text is never handed on as if it were the text: a reader would see
    ciphertext where a summary should be.
    """
    if not stored.startswith(MARK):
        return stored
    if stored.startswith(ESCAPED):
        return stored[len(ESCAPED):]
    if not stored.startswith(SEALED):
        return stored  # clear text from before this scheme that happens to begin "enc:"
    if _keyring is None:
        raise DataKeyError("the database holds encrypted text but no data key is set: set "
                           "CAUCUS_DATA_KEY (or [privacy].key_file) to the key it was "
                           "written with")
    try:
        return _keyring.decrypt(stored[len(SEALED):].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DataKeyError("encrypted text in the database opens with none of the data keys "
                           "given: is CAUCUS_DATA_KEY (or [privacy].key_file) the key it was "
                           "written with? After a rotation, keep the old key after the new "
                           "one until `caucus-bot keys rotate` has run") from None


def reseal(stored: str) -> str:
    """The stored form again, sealed with the first key: what ``keys rotate`` writes.

    Needs a key; clear text (from before there was a key) is sealed too.
    """
    if _keyring is None:
        raise DataKeyError("no data key is set: set CAUCUS_DATA_KEY (or [privacy].key_file)")
    return seal(unseal(stored))
