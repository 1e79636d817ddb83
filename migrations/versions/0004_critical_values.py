"""critical_values: Monte-Carlo critical values of the exuberance tests, shared by all nodes

Revision ID: 0004_critical_values
Revises: 0003_trash_audit
Create Date: 2026-12-07 15:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_critical_values'
down_revision = '0003_trash_audit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('critical_values',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('t', sa.Integer(), nullable=False),
    sa.Column('min_window', sa.Integer(), nullable=False),
    sa.Column('lag', sa.Integer(), nullable=False),
    sa.Column('reps', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_critical_values'))
    )


def downgrade():
    op.drop_table('critical_values')
