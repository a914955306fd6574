"""erasure: one-time codes that confirm a case's erasure; outbox rows whose text retention dropped

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 01:40:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erasurecode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('erasurecode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasurecode_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_dropped_at', storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('text_dropped_at')
    with op.batch_alter_table('erasurecode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasurecode_case_id'))
    op.drop_table('erasurecode')
