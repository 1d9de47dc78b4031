"""导入: import_record (导入记录), import_balance_check (剩余本金 a loan import left to check
against its imported repayments) and repayment.serial_no (流水号, matched on re-import).

Revision ID: d8f41a6c2e93
Revises: 9c2e4f7a1b35
Create Date: 2026-12-01 00:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd8f41a6c2e93'
down_revision = '9c2e4f7a1b35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('file_format', sa.String(length=8), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_created', sa.Integer(), nullable=False),
        sa.Column('rows_updated', sa.Integer(), nullable=False),
        sa.Column('rows_skipped', sa.Integer(), nullable=False),
        sa.Column('rows_error', sa.Integer(), nullable=False),
        sa.Column('report_name', sa.String(length=64), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_import_record_kind', 'import_record', ['kind', 'id'])
    op.create_index(op.f('ix_import_record_sha256'), 'import_record', ['sha256'])
    op.create_table(
        'import_balance_check',
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('outstanding_principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('import_record_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['import_record_id'], ['import_record.id']),
        sa.ForeignKeyConstraint(['loan_id'], ['loan.id']),
        sa.PrimaryKeyConstraint('loan_id'),
    )
    op.add_column('repayment', sa.Column('serial_no', sa.String(length=64), nullable=True))
    op.create_index('ix_repayment_loan_serial', 'repayment', ['loan_id', 'serial_no'])


def downgrade():
    op.drop_index('ix_repayment_loan_serial', table_name='repayment')
    with op.batch_alter_table('repayment') as batch:
        batch.drop_column('serial_no')
    op.drop_table('import_balance_check')
    op.drop_index(op.f('ix_import_record_sha256'), table_name='import_record')
    op.drop_index('ix_import_record_kind', table_name='import_record')
    op.drop_table('import_record')
