"""customer.anonymised_on: the day the retention job anonymised the customer
(services.retention)

Revision ID: e7a3c5d9f2b8
Revises: d2f6a8c3e1b5
Create Date: 2026-12-01 01:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e7a3c5d9f2b8'
down_revision = 'd2f6a8c3e1b5'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('customer', sa.Column('anonymised_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('anonymised_on')
