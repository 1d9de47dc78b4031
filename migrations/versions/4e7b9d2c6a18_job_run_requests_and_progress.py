"""job_run: requests for a run (立即运行, picked up by the scheduler process) and progress by
step (issue 15)

Revision ID: 4e7b9d2c6a18
Revises: d8f41a6c2e93
Create Date: 2026-12-01 01:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = '4e7b9d2c6a18'
down_revision = 'd8f41a6c2e93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_run') as batch:
        batch.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('requested_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('progress', sa.Text(), nullable=True))
        batch.create_foreign_key('fk_job_run_requested_by_id_user_account', 'user_account',
                                 ['requested_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('job_run') as batch:
        batch.drop_constraint('fk_job_run_requested_by_id_user_account', type_='foreignkey')
        batch.drop_column('progress')
        batch.drop_column('requested_at')
        batch.drop_column('requested_by_id')
