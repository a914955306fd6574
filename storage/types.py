"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from storage.crypto import seal, unseal


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC.

    SQLite drops time zones and PostgreSQL's plain ``timestamp`` does too, so
    we normalise at the boundary: every datetime in Python code is aware.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class EncryptedText(TypeDecorator[str]):
    """Text sealed with the data key on write and opened on read (``storage.crypto``).

    The column stays TEXT, so a database written without a key needs no migration;
    its clear rows are read as they are until ``caucus-bot keys rotate`` seals them.
    A sealed value is random and different each time it is written, so no query
    may filter, order or search on such a column: keep what queries need
    (status, country, dates, tags) in clear columns. The comparator refuses every
    operator but ``IS [NOT] NULL`` (comparisons, LIKE, IN, ``.desc()``), so such a
    query fails where it is written rather than silently matching nothing; a bare
    ``order_by(column)`` uses no operator and is not caught.
    """

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator, Text.Comparator):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op not in NULL_TESTS:
                raise TypeError(_refusal(self.expr, op))
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise TypeError(_refusal(self.expr, op))

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)


NULL_TESTS = frozenset({operators.is_, operators.is_not})


def _refusal(column: Any, op: Any) -> str:
    return (f"{column} is encrypted at rest: a query cannot use it with "
            f"{getattr(op, '__name__', op)} (only IS NULL / IS NOT NULL); keep what queries "
            "need in a clear column")


class Keyed:
    """A table model with an integer primary key, and ``key``: the id of a record read
    from the database (or flushed to it), typed as one that exists.

    ``id`` is None until the insert, so code that holds a stored record used to write
    ``record.id or 0``; a record never saved would then silently stand for row 0. Its
    ``key`` raises instead.
    """

    id: int | None

    @property
    def key(self) -> int:
        if self.id is None:
            raise LookupError(f"this {type(self).__name__} has not been saved yet")
        return self.id
