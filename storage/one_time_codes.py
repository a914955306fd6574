"""One-time codes read off a phone screen: made here, kept only as a hash.

``/case erase`` confirms with one and ``/bridge pair`` pairs two rooms with one. The
code itself is never stored, so a copy of the database cannot be used to spend it.
"""

from __future__ import annotations

import hashlib
import secrets

# Unambiguous letters and digits (no 0/O, 1/I/L): the code is read off a phone screen.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(*bound_to: object, code: str) -> str:
    """The hash of a code with what it is bound to (a case, a person): a code is worth
    nothing for anything else. Typed in lower case or with spaces, it is the same code."""
    typed = "".join(code.split()).upper()
    return hashlib.sha256("\n".join([*map(str, bound_to), typed]).encode()).hexdigest()
