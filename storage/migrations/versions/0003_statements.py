"""statements: statements, texts, rooms, signatures, org profiles

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:01:04.956552
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orgprofile',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('org_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ecosoc', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('deadline', storage.types.UTCDateTime(), nullable=True),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text_version', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('org_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('org_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ecosoc', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('unlisted', sa.Boolean(), nullable=False),
    sa.Column('signed_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('signed_in', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('text_version', sa.Integer(), nullable=False),
    sa.Column('signed_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('uq_signature_active', ['statement_id', 'org_key'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('statementroom',
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_id', 'room_id')
    )
    op.create_table('statementtext',
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_id', 'version')
    )


def downgrade() -> None:
    op.drop_table('statementtext')
    op.drop_table('statementroom')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('uq_signature_active', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_signature_statement_id'))

    op.drop_table('signature')
    op.drop_table('statement')
    op.drop_table('orgprofile')
