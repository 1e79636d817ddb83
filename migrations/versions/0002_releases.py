"""releases: families of datasets, series-mapping corrections, recipes

Revision ID: 0002_releases
Revises: 0001_initial
Create Date: 2026-12-07 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_releases'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('families',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_families_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_families'))
    )
    with op.batch_alter_table('families', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_families_owner_id'), ['owner_id'], unique=False)

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('release_label', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_period', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_datasets_family_id'), ['family_id'], unique=False)
        batch_op.create_unique_constraint('uq_datasets_family_release', ['family_id', 'release_label'])
        batch_op.create_foreign_key(batch_op.f('fk_datasets_family_id_families'), 'families', ['family_id'], ['id'], ondelete='SET NULL')

    op.create_table('series_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.String(length=16), nullable=False),
    sa.Column('dataset_id', sa.String(length=16), nullable=False),
    sa.Column('sheet', sa.String(length=300), nullable=False),
    sa.Column('column', sa.String(length=300), nullable=False),
    sa.Column('series', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_series_corrections_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_series_corrections_family_id_families'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_corrections')),
    sa.UniqueConstraint('dataset_id', 'sheet', 'column', name='uq_series_corrections_release_column')
    )
    with op.batch_alter_table('series_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_corrections_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_corrections_family_id'), ['family_id'], unique=False)

    op.create_table('recipes',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.String(length=16), nullable=True),
    sa.Column('dataset_id', sa.String(length=16), nullable=True),
    sa.Column('sheet', sa.String(length=300), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('quartile_version', sa.String(length=64), nullable=False),
    sa.Column('chart_id', sa.String(length=16), nullable=True),
    sa.Column('report_id', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chart_id'], ['charts.id'], name=op.f('fk_recipes_chart_id_charts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_recipes_dataset_id_datasets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_recipes_family_id_families'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_recipes_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_recipes_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipes'))
    )
    with op.batch_alter_table('recipes', schema=None) as batch_op:
        for column in ('owner_id', 'family_id', 'dataset_id', 'chart_id', 'report_id'):
            batch_op.create_index(f'ix_recipes_{column}', [column], unique=False)


def downgrade():
    op.drop_table('recipes')
    op.drop_table('series_corrections')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_datasets_family_id_families'), type_='foreignkey')
        batch_op.drop_constraint('uq_datasets_family_release', type_='unique')
        batch_op.drop_index(batch_op.f('ix_datasets_family_id'))
        batch_op.drop_column('last_period')
        batch_op.drop_column('release_label')
        batch_op.drop_column('family_id')
    op.drop_table('families')
