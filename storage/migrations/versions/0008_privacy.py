"""privacy: outbox rows name their subject; resume values hold an encrypted token

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 01:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_outboxmessage_subject'), ['subject'], unique=False)
    with op.batch_alter_table('resumepoint', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
                              type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('resumepoint', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sa.Text(),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=255), existing_nullable=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outboxmessage_subject'))
        batch_op.drop_column('subject')
