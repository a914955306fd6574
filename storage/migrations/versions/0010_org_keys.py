"""org keys: recompute signature.org_key with accent, format and look-alike folding

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 02:10:00.000000

``normalise_org_name`` now folds accents on Latin, Greek and Cyrillic letters, drops
soft hyphens and other invisible format characters, and reads Cyrillic or Greek
look-alike letters as the Latin ones. Every signature's ``org_key`` is recomputed with
it, withdrawn ones included, so that a later sign-on finds the right row.

Two active signatures of one statement may now share a key ("Asociación ..." and
"Asociacion ..." signed separately). The unique index on active signatures must hold,
so the older one (earliest ``signed_at``, then lowest id) stays and each newer one is
marked withdrawn now, ``withdrawn_by = 'migration 0010'``: no row is deleted, and the
history shows why it was withdrawn.

Downgrade leaves the keys and the withdrawals as they are: the old keys cannot be told
apart again without undoing the withdrawals, which would break the unique index.
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types
from storage.org_names import normalise_org_name

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

WITHDRAWN_BY = "migration 0010"

signature = sa.table(
    "signature",
    sa.column("id", sa.Integer()),
    sa.column("statement_id", sa.Integer()),
    sa.column("org_name", sa.String()),
    sa.column("org_key", sa.String()),
    sa.column("signed_at", storage.types.UTCDateTime()),
    sa.column("withdrawn_at", storage.types.UTCDateTime()),
    sa.column("withdrawn_by", sa.String()),
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(signature.c.id, signature.c.statement_id, signature.c.org_name,
                  signature.c.org_key, signature.c.withdrawn_at)
        .order_by(signature.c.signed_at, signature.c.id)).all()
    now = datetime.now(UTC)
    kept: set[tuple[int, str]] = set()
    new_keys: dict[int, str] = {}
    for row in rows:
        key = normalise_org_name(row.org_name)
        if key != row.org_key:
            new_keys[row.id] = key
        if row.withdrawn_at is not None:
            continue
        if (row.statement_id, key) in kept:  # a newer duplicate: withdrawn first
            connection.execute(sa.update(signature).where(signature.c.id == row.id)
                               .values(withdrawn_at=now, withdrawn_by=WITHDRAWN_BY))
        else:
            kept.add((row.statement_id, key))
    # In two steps, so that no key meets another active row's old key on the way; "~" is
    # never in a key, and PostgreSQL text may not hold the NUL a marker might have used.
    for row_id in new_keys:
        connection.execute(sa.update(signature).where(signature.c.id == row_id)
                           .values(org_key=f"~migrating {row_id}"))
    for row_id, key in new_keys.items():
        connection.execute(sa.update(signature).where(signature.c.id == row_id)
                           .values(org_key=key))


def downgrade() -> None:
    """Nothing to undo in the schema; see the module docstring for the data."""
