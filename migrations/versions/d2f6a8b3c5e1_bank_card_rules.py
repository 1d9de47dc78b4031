"""bank card rules: at most one default card per customer (partial unique index; extra
defaults left by earlier versions are cleared first, keeping each customer's lowest card
id), a card number once per customer (unique (customer_id, card_number), which also serves
the customer's card list and replaces the index on customer_id alone)

Revision ID: d2f6a8b3c5e1
Revises: c9d4e2a1f7b3
Create Date: 2026-12-01 00:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd2f6a8b3c5e1'
down_revision = 'c9d4e2a1f7b3'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    true = sa.true().compile(dialect=bind.dialect)
    op.execute(f"UPDATE bank_card SET is_default = {sa.false().compile(dialect=bind.dialect)} "
               f"WHERE is_default = {true} AND id > (SELECT MIN(b.id) FROM bank_card b "
               f"WHERE b.customer_id = bank_card.customer_id AND b.is_default = {true})")
    op.create_index('uq_bank_card_default', 'bank_card', ['customer_id'], unique=True,
                    sqlite_where=sa.text('is_default = 1'), postgresql_where=sa.text('is_default'))
    op.create_index('uq_bank_card_number', 'bank_card', ['customer_id', 'card_number'], unique=True)
    op.drop_index('ix_bank_card_customer_id', table_name='bank_card')


def downgrade():
    op.create_index('ix_bank_card_customer_id', 'bank_card', ['customer_id'], unique=False)
    op.drop_index('uq_bank_card_number', table_name='bank_card')
    op.drop_index('uq_bank_card_default', table_name='bank_card')
