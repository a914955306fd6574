"""web sign-ons: public sign-on pages of statements, web sign-ons and their review

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 04:00:49.097338

Existing signatures came from chat (``source = 'chat'``); existing statements have no
web page (``web_open`` false, no token).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('websignon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('org_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('org_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ecosoc', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('unlisted', sa.Boolean(), nullable=False),
    sa.Column('text_version', sa.Integer(), nullable=False),
    sa.Column('signer_name', storage.types.EncryptedText(), nullable=True),
    sa.Column('signer_email', storage.types.EncryptedText(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('submitted_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['signature_id'], ['signature.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('withdraw_hash')
    )
    with op.batch_alter_table('websignon', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websignon_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_websignon_status'), ['status'], unique=False)
        batch_op.create_index('uq_websignon_pending', ['statement_id', 'org_key'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    # Plain ALTER TABLE, never a batch copy: on SQLite a batch rebuilds the table and drops
    # the old one, and dropping "statement" would delete every signature through its
    # ON DELETE CASCADE (tests/storage/test_web_signons.py keeps them).
    op.add_column('signature', sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default='chat'))
    op.add_column('statement', sa.Column('web_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('statement', sa.Column('web_open', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(op.f('ix_statement_web_token'), 'statement', ['web_token'], unique=True)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not a batch copy: see upgrade().
    op.drop_index(op.f('ix_statement_web_token'), table_name='statement')
    op.drop_column('statement', 'web_open')
    op.drop_column('statement', 'web_token')
    op.drop_column('signature', 'source')

    with op.batch_alter_table('websignon', schema=None) as batch_op:
        batch_op.drop_index('uq_websignon_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_websignon_status'))
        batch_op.drop_index(batch_op.f('ix_websignon_statement_id'))

    op.drop_table('websignon')
