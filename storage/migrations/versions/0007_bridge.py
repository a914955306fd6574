"""bridge: message links; outbox rows that relay

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:31:49.013691
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('messagelink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_room', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('source_message', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('target_room', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('target_message', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_room', 'source_message', 'target_room', name='uq_messagelink_source')
    )
    with op.batch_alter_table('messagelink', schema=None) as batch_op:
        batch_op.create_index('ix_messagelink_target', ['target_room', 'target_message'], unique=False)

    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_room', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('source_message', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('reply_source_room', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('reply_source_message', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('reply_source_message')
        batch_op.drop_column('reply_source_room')
        batch_op.drop_column('source_message')
        batch_op.drop_column('source_room')

    with op.batch_alter_table('messagelink', schema=None) as batch_op:
        batch_op.drop_index('ix_messagelink_target')

    op.drop_table('messagelink')
