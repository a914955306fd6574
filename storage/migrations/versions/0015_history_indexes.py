"""history indexes: the outbox queue by status and room, errors, and ages for retention

The outbox's single-column indexes (status; room) left the worker's "oldest pending row
of this room" to whichever the planner picked, and with a million delivered rows in one
room the room index meant walking them all; one (status, room_id, id) index serves
every query of the queue. Retention finds old rows by age, so the three tables that
grow with each relayed message get an index on their date.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 08:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

HAS_ERROR = sa.text("last_error IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmessage_status')
        batch_op.drop_index('ix_outboxmessage_room_id')
        batch_op.create_index('ix_outboxmessage_queue', ['status', 'room_id', 'id'],
                              unique=False)
        batch_op.create_index('ix_outboxmessage_errors', ['room_id', 'id'], unique=False,
                              sqlite_where=HAS_ERROR, postgresql_where=HAS_ERROR)
        batch_op.create_index('ix_outboxmessage_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('messagelink', schema=None) as batch_op:
        batch_op.create_index('ix_messagelink_at', ['at'], unique=False)
    with op.batch_alter_table('inboundseen', schema=None) as batch_op:
        batch_op.create_index('ix_inboundseen_seen_at', ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inboundseen', schema=None) as batch_op:
        batch_op.drop_index('ix_inboundseen_seen_at')
    with op.batch_alter_table('messagelink', schema=None) as batch_op:
        batch_op.drop_index('ix_messagelink_at')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmessage_created_at')
        batch_op.drop_index('ix_outboxmessage_errors')
        batch_op.drop_index('ix_outboxmessage_queue')
        batch_op.create_index('ix_outboxmessage_room_id', ['room_id'], unique=False)
        batch_op.create_index('ix_outboxmessage_status', ['status'], unique=False)
