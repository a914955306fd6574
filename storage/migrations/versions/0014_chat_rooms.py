"""chat rooms: rooms allowed and pairs made from chat; pairing codes (hashed)

Revision ID: 0014
Revises: 0010
Create Date: 2026-11-25 05:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chatroom',
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('secure', sa.Boolean(), nullable=False),
    sa.Column('partner_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('added_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('paired_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('paired_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('room_id'),
    sa.UniqueConstraint('partner_id')
    )
    op.create_table('pairingcode',
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('room_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('pairingcode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairingcode_room_id'), ['room_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pairingcode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairingcode_room_id'))
    op.drop_table('pairingcode')
    op.drop_table('chatroom')
