"""How an unexpected failure is logged: the exception's type and where it happened.

An exception's message may quote the values it was given: a database error names
its SQL parameters (a case summary, a phone number), PostgreSQL repeats a
conflicting key, a ``KeyError`` or ``ValueError`` repeats what it could not take.
Logs travel further than the database (journald, log shippers, a pasted bug
report), so a log line carries the traceback's frames and the exception types of
the whole chain, which is what an operator needs to find the bug, and never a
message, except those of ``SAFE`` exceptions, which are ours. Nothing here
imports telegram or nio.
"""

from __future__ import annotations

import traceback

from storage.crypto import DataKeyError

WITHHELD = "(message withheld: it may quote user data)"
# Exceptions whose messages are ours and quote nothing: shown, since they say what to do.
SAFE = (DataKeyError,)


def traceback_without_messages(exc: BaseException) -> str:
    """Like Python's own traceback, oldest exception of the chain first, minus the messages."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    parts: list[str] = []
    for n, failure in enumerate(reversed(chain)):
        if n:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(failure.__traceback__)))
        said = str(failure) if isinstance(failure, SAFE) else WITHHELD
        parts.append(f"{_qualified(type(failure))}: {said}\n")
    return "".join(parts).rstrip("\n")


def _qualified(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
