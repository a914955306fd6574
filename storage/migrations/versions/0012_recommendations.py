"""recommendations: UN recommendations, their assessments and links; monthly indicators switch

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-26 10:00:00.000000

Recommendations carry their source ids (UHRI ``AnnotationId``, UPR Info entity id)
under unique constraints, so that a re-import updates rows. Assessments are rows of
their own (the history), links go to cases and statements with cascading deletes.
``roomsetting.indicators_monthly`` starts off for every room that has settings.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recommendation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('recommending', sa.Text(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('session', sa.Integer(), nullable=True),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('paragraph', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('themes', sa.Text(), nullable=False),
    sa.Column('affected', sa.Text(), nullable=False),
    sa.Column('published', sa.Date(), nullable=True),
    sa.Column('uhri_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('uprinfo_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('statuses', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uhri_id'),
    sa.UniqueConstraint('uprinfo_id')
    )
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_source'), ['source'], unique=False)

    op.create_table('recassessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('org_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('assessed_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recassessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recassessment_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('reccaselink',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('linked_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id', 'case_id')
    )
    with op.batch_alter_table('reccaselink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reccaselink_case_id'), ['case_id'], unique=False)

    op.create_table('recstatementlink',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('linked_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id', 'statement_id')
    )
    with op.batch_alter_table('recstatementlink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recstatementlink_statement_id'), ['statement_id'], unique=False)

    with op.batch_alter_table('roomsetting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicators_monthly', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # The default was for the rows already there; the model gives new rows their value.
    with op.batch_alter_table('roomsetting', schema=None) as batch_op:
        batch_op.alter_column('indicators_monthly', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('roomsetting', schema=None) as batch_op:
        batch_op.drop_column('indicators_monthly')

    with op.batch_alter_table('recstatementlink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recstatementlink_statement_id'))

    op.drop_table('recstatementlink')
    with op.batch_alter_table('reccaselink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reccaselink_case_id'))

    op.drop_table('reccaselink')
    with op.batch_alter_table('recassessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recassessment_recommendation_id'))

    op.drop_table('recassessment')
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_source'))
        batch_op.drop_index(batch_op.f('ix_recommendation_country'))

    op.drop_table('recommendation')
