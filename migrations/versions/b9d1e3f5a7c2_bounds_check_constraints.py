"""bounds check constraints: money within 10^12 and two decimals, rates with at most four
decimals, dates from 2000-01-01 (models.bounds; the forms and services refuse the same values
with a Chinese message). The finding: a loan of 1e20 was booked.

Revision ID: b9d1e3f5a7c2
Revises: d2f4a6c8e0b1
Create Date: 2026-12-01 01:10:00

"""
from alembic import op


revision = 'b9d1e3f5a7c2'
down_revision = 'd2f4a6c8e0b1'
branch_labels = None
depends_on = None

# (table, constraint, condition), as models.bounds.BOUND_CHECKS declared them at this revision.
CHECKS = (
    ('loan', 'ck_loan_bounds',
     "(principal IS NULL OR (ABS(principal) <= 1000000000000 AND ROUND(principal, 2) = principal)) AND (outstanding_principal IS NULL OR (ABS(outstanding_principal) <= 1000000000000 AND ROUND(outstanding_principal, 2) = outstanding_principal)) AND (rate IS NULL OR ROUND(rate, 4) = rate) AND (start_date IS NULL OR start_date >= '2000-01-01')"),
    ('repayment', 'ck_repayment_bounds',
     '(amount IS NULL OR (ABS(amount) <= 1000000000000 AND ROUND(amount, 2) = amount))'),
    ('rate_change', 'ck_rate_change_bounds',
     "(new_rate IS NULL OR ROUND(new_rate, 4) = new_rate) AND (effective_date IS NULL OR effective_date >= '2000-01-01')"),
    ('loan_product', 'ck_product_bounds',
     '(min_rate IS NULL OR ROUND(min_rate, 4) = min_rate) AND (default_rate IS NULL OR ROUND(default_rate, 4) = default_rate) AND (max_rate IS NULL OR ROUND(max_rate, 4) = max_rate) AND (penalty_markup IS NULL OR ROUND(penalty_markup, 4) = penalty_markup)'),
    ('guarantor', 'ck_guarantor_bounds',
     '(guaranteed_amount IS NULL OR (ABS(guaranteed_amount) <= 1000000000000 AND ROUND(guaranteed_amount, 2) = guaranteed_amount))'),
    ('collateral', 'ck_collateral_bounds',
     "(value IS NULL OR (ABS(value) <= 1000000000000 AND ROUND(value, 2) = value)) AND (start_date IS NULL OR start_date >= '2000-01-01') AND (expiry_date IS NULL OR expiry_date >= '2000-01-01')"),
    ('credit_line', 'ck_credit_line_bounds',
     "(amount IS NULL OR (ABS(amount) <= 1000000000000 AND ROUND(amount, 2) = amount)) AND (start_date IS NULL OR start_date >= '2000-01-01') AND (expiry_date IS NULL OR expiry_date >= '2000-01-01')"),
    ('write_off', 'ck_write_off_bounds',
     '(principal_amount IS NULL OR (ABS(principal_amount) <= 1000000000000 AND ROUND(principal_amount, 2) = principal_amount)) AND (interest_amount IS NULL OR (ABS(interest_amount) <= 1000000000000 AND ROUND(interest_amount, 2) = interest_amount))'),
    ('collection', 'ck_collection_bounds',
     '(promised_amount IS NULL OR (ABS(promised_amount) <= 1000000000000 AND ROUND(promised_amount, 2) = promised_amount))'),
)


def upgrade():
    # On SQLite a batch rebuilds each table once (copying its rows) with the constraint added.
    for table, name, condition in CHECKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(name, condition)
    _restore_statistics()


def downgrade():
    for table, name, _ in CHECKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_='check')
    _restore_statistics()


def _restore_statistics():
    """A rebuilt SQLite table has lost its planner statistics (see f3a8d2c6b1e4)."""
    if op.get_bind().dialect.name == 'sqlite':
        for table, _, _ in CHECKS:
            op.execute(f'ANALYZE {table}')
