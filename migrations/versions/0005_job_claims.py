"""job claims and change events: jobs.claimed_by, the change_events table

Several gunicorn workers on the embedded engine (issue 19): a job row names the process that
claimed it, and change events cross processes through a table when there is no Redis.

Revision ID: 0005_job_claims
Revises: 0004_critical_values
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_job_claims'
down_revision = '0004_critical_values'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=80), nullable=True))
    op.create_table('change_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_events'))
    )
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_events_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_events_created_at'))
    op.drop_table('change_events')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
