"""cases: case, tags and timeline

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:54:43.931603
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('close_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('reporter_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('assignee_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('consent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('un_body', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('un_reference', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('incident_date', sa.Date(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_updated_at'), ['updated_at'], unique=False)

    op.create_table('caseevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('caseevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caseevent_case_id'), ['case_id'], unique=False)

    op.create_table('casetag',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'tag')
    )
    with op.batch_alter_table('casetag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_casetag_tag'), ['tag'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('casetag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_casetag_tag'))

    op.drop_table('casetag')
    with op.batch_alter_table('caseevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caseevent_case_id'))

    op.drop_table('caseevent')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_updated_at'))
        batch_op.drop_index(batch_op.f('ix_case_status'))
        batch_op.drop_index(batch_op.f('ix_case_country'))

    op.drop_table('case')
