"""admin: users an administrator disabled, and server-wide settings (sign-up open or closed)

Revision ID: 0006_admin
Revises: 0005_job_claims
Create Date: 2026-12-07 16:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_admin'
down_revision = '0005_job_claims'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('site_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_settings'))
    )


def downgrade():
    op.drop_table('site_settings')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
