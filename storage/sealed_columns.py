"""The schema's encrypted columns as a whole: rotating their key, checking it at start.

``caucus-bot keys rotate`` seals every encrypted value again with the first data key:
old-key values are opened with any key given and sealed with the first; clear
values written before there was a key are sealed too. It runs in one
transaction, reading a batch of rows at a time by primary key, so that a large
outbox never sits in memory whole, and a failure (a value no key opens) leaves
the database as it was. Afterwards the old key may be dropped. A rewritten row's
old bytes outlive it (SQLite's free pages and write-ahead log, PostgreSQL's dead
row versions), so on SQLite the file is rebuilt after a rotation.

``check_keys`` runs at every start: a missing or wrong key is found there, with
a message that says what to do, not at the first command that reads a case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, Connection, Table, bindparam, column, select, table, update
from sqlalchemy.sql.expression import ColumnClause
from sqlmodel import SQLModel

import storage.all_models  # noqa: F401  (registers every table on the metadata)
from storage.crypto import SEALED, reseal, unseal
from storage.database import Database
from storage.inbound import RESUME, SECRETS
from storage.types import EncryptedText

BATCH = 500


def encrypted_columns() -> Iterator[tuple[Table, list[Column]]]:
    """Each table with a column of type EncryptedText, and those columns."""
    for model_table in SQLModel.metadata.sorted_tables:
        columns = [c for c in model_table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            yield model_table, columns


def check_keys(database: Database) -> None:
    """Open one sealed value of each encrypted column; raises DataKeyError if one fails."""
    with database.engine.connect() as connection:
        for model_table, columns in encrypted_columns():
            for model_column in columns:
                stored: ColumnClause[Any] = column(model_column.name)  # the stored form
                value = connection.execute(
                    select(stored).select_from(table(model_table.name))
                    .where(stored.startswith(SEALED)).limit(1)).scalar()
                if value is not None:
                    unseal(value)
        for (secret,) in connection.execute(select(RESUME.c.value)
                                            .where(RESUME.c.name.in_(SECRETS))):
            unseal(secret)


def rotate(database: Database, batch: int = BATCH) -> dict[str, int]:
    """Seal every encrypted value with the first key; the rows changed, per table."""
    counts: dict[str, int] = {}
    with database.engine.begin() as connection:
        for model_table, columns in encrypted_columns():
            counts[model_table.name] = _rotate_table(connection, model_table, columns, batch)
        counts[RESUME.name] = _rotate_secrets(connection)
    _drop_old_copies(database)
    return counts


def _drop_old_copies(database: Database) -> None:
    """SQLite: rebuild the file and empty the write-ahead log, where the clear text (or the
    old key's) of the rows just rewritten is otherwise left until the pages are reused."""
    if database.engine.dialect.name != "sqlite":
        return  # PostgreSQL: VACUUM FULL, by its administrator (README)
    with database.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("VACUUM")
        autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _rotate_table(connection: Connection, model_table: Table, columns: list[Column],
                  batch: int) -> int:
    [key] = model_table.primary_key.columns  # every table with text to seal has an id
    # Untyped columns: the stored forms as they are, neither opened nor sealed on the way.
    raw = table(model_table.name, column(key.name), *(column(c.name) for c in columns))
    names = [c.name for c in columns]
    change = (update(raw).where(raw.c[key.name] == bindparam("row_key"))
              .values({name: bindparam(f"new_{name}") for name in names}))
    changed, last = 0, None
    while True:
        query = select(raw).order_by(raw.c[key.name]).limit(batch)
        if last is not None:
            query = query.where(raw.c[key.name] > last)
        rows = connection.execute(query).all()
        if not rows:
            return changed
        updates = [{"row_key": row[0], **{f"new_{name}": None if value is None else reseal(value)
                                          for name, value in zip(names, row[1:], strict=True)}}
                   for row in rows]
        connection.execute(change, updates)
        changed += len(updates)
        last = rows[-1][0]


def _rotate_secrets(connection: Connection) -> int:
    rows = connection.execute(select(RESUME.c.name, RESUME.c.value)
                              .where(RESUME.c.name.in_(SECRETS))).all()
    for name, value in rows:
        connection.execute(update(RESUME).where(RESUME.c.name == name)
                           .values(value=reseal(value)))
    return len(rows)
