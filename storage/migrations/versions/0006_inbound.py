"""inbound: resume points, handled messages; outbox reply_to

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 08:15:39.453373
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inboundseen',
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('room_id', 'message_id', 'version')
    )
    op.create_table('resumepoint',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('reply_to')

    op.drop_table('resumepoint')
    op.drop_table('inboundseen')
