"""loan ledger: loan_entry (append-only dated money events, models.ledger replays them),
product money conventions (grace mode, 复利 switch, settlement interest, prepayment fee),
复利 figures on loans, installments and repayments, the penalty bases the daily job extends,
repayment kind / prepayment mode / reversal date; entries backfilled for the existing book
(disbursement, rate changes, extensions, repayments) and each period's crystallised penalty
carried over as its basis, so stored figures are unchanged by the upgrade; existing products
keep the previous conventions (grace days deducted, no 复利), so the next daily job changes no
figure either (bench/bench_migrate.py --job proves both on a seeded book).

Revision ID: 9c1e5a7d3b20
Revises: e7a3c5d9f2b8
Create Date: 2026-12-01 00:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = '9c1e5a7d3b20'
down_revision = 'e7a3c5d9f2b8'
branch_labels = None
depends_on = None

OLD_OPEN = ('due_date', 'loan_id', 'principal_due', 'principal_paid', 'interest_due', 'interest_paid',
            'penalty_paid', 'penalty_accrued', 'penalty_accrued_to')
NEW_OPEN = ('due_date', 'loan_id', 'principal_due', 'principal_paid', 'interest_due', 'interest_paid',
            'penalty_paid', 'compound_paid', 'penalty_basis', 'compound_basis', 'penalty_accrued_to')
PRODUCT_CHECK = ("grace_mode IN ('from_due', 'deduct') AND settle_interest IN ('to_date', 'period') "
                 "AND prepay_fee_pct >= 0 AND prepay_fee_pct < 100")


def upgrade():
    money = sa.Numeric(18, 2)
    op.create_table(
        'loan_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=False),
        sa.Column('amount', money, nullable=True),
        sa.Column('rate', sa.Numeric(9, 6), nullable=True),
        sa.Column('new_maturity', sa.Date(), nullable=True),
        sa.Column('prepay_mode', sa.String(length=16), nullable=True),
        sa.Column('reverses_id', sa.Integer(), nullable=True),
        sa.Column('repayment_id', sa.Integer(), nullable=True),
        sa.Column('rate_change_id', sa.Integer(), nullable=True),
        sa.Column('extension_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.CheckConstraint("kind IN ('disbursement', 'rate_change', 'extension', 'repayment', 'reversal', "
                           "'write_off', 'recovery', 'fee')", name='ck_loan_entry_kind'),
        sa.CheckConstraint('amount IS NULL OR amount > 0', name='ck_loan_entry_amount'),
        sa.ForeignKeyConstraint(['loan_id'], ['loan.id']),
        sa.ForeignKeyConstraint(['reverses_id'], ['loan_entry.id']),
        sa.ForeignKeyConstraint(['repayment_id'], ['repayment.id']),
        sa.ForeignKeyConstraint(['rate_change_id'], ['rate_change.id']),
        sa.ForeignKeyConstraint(['extension_id'], ['extension.id']),
        sa.ForeignKeyConstraint(['operator_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reverses_id'),
    )
    op.create_index('ix_loan_entry_loan', 'loan_entry', ['loan_id', 'id'], unique=False)
    op.create_index('ix_loan_entry_repayment_id', 'loan_entry', ['repayment_id'], unique=False)

    op.add_column('loan', sa.Column('compound_interest', money, server_default='0', nullable=False))
    for name in ('compound_part', 'fee_part'):
        op.add_column('repayment', sa.Column(name, money, server_default='0', nullable=False))
    op.add_column('repayment', sa.Column('kind', sa.String(length=16), server_default='repayment', nullable=False))
    op.add_column('repayment', sa.Column('prepay_mode', sa.String(length=16), nullable=True))
    op.add_column('repayment', sa.Column('reversed_on', sa.Date(), nullable=True))
    op.add_column('installment', sa.Column('compound_paid', money, server_default='0', nullable=False))
    op.add_column('installment', sa.Column('penalty_basis', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('installment', sa.Column('compound_basis', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('loan_product') as batch_op:
        batch_op.add_column(sa.Column('grace_mode', sa.String(length=16), server_default='from_due', nullable=False))
        batch_op.add_column(sa.Column('compound_interest', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('settle_interest', sa.String(length=16), server_default='to_date',
                                      nullable=False))
        batch_op.add_column(sa.Column('prepay_fee_pct', sa.Numeric(9, 6), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_product_money_rules', PRODUCT_CHECK)

    # Products that exist already keep the conventions their signed contracts were made under
    # (grace days deducted, no 复利); the new defaults are for products created from now on. An
    # admin switches a product on its form, where each convention is stated.
    op.execute(sa.text("UPDATE loan_product SET grace_mode = 'deduct', compound_interest = :off")
               .bindparams(off=False))
    _open_index(NEW_OPEN)
    # The crystallised penalty of each period becomes its basis (yuan × % × days × 10^6).
    op.execute("""
        UPDATE installment SET penalty_basis = (
            SELECT ROUND(installment.penalty_accrued * 3600000000000 / (100 + p.penalty_markup))
            FROM loan l JOIN loan_product p ON p.id = l.product_id WHERE l.id = installment.loan_id)
        WHERE penalty_accrued > 0""")
    from services.ledger_backfill import backfill_entries

    backfill_entries(op.get_bind())
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE loan_product')
        op.execute('ANALYZE loan_entry')


def downgrade():
    _open_index(OLD_OPEN)
    with op.batch_alter_table('loan_product') as batch_op:
        batch_op.drop_constraint('ck_product_money_rules', type_='check')
        for name in ('prepay_fee_pct', 'settle_interest', 'compound_interest', 'grace_mode'):
            batch_op.drop_column(name)
    for table, names in (('installment', ('compound_basis', 'penalty_basis', 'compound_paid')),
                         ('repayment', ('reversed_on', 'prepay_mode', 'kind', 'fee_part', 'compound_part')),
                         ('loan', ('compound_interest',))):
        for name in names:
            op.drop_column(table, name)
    op.drop_index('ix_loan_entry_repayment_id', table_name='loan_entry')
    op.drop_index('ix_loan_entry_loan', table_name='loan_entry')
    op.drop_table('loan_entry')


def _open_index(columns):
    op.drop_index('ix_installment_open', table_name='installment')
    op.create_index('ix_installment_open', 'installment', list(columns), unique=False,
                    sqlite_where=sa.text('paid_off_date IS NULL'),
                    postgresql_where=sa.text('paid_off_date IS NULL'))
