"""核销台账 figures of a write-off entry (loan_entry, kind 'write_off'), read in the same query
as the entry (deferred until a screen asks, then one correlated subquery each, never a query
per row).

The amounts written off are the ledger's claim on the write-off date. After a write-off
nothing accrues (models.ledger), so that claim is what the loan still owes (its stored
position, replayed by services.ledger.sync: 本金 outstanding, 逾期利息, 罚息, 复利) plus what the
核销后收回 since took of each part; a recovery's parts are the replay's allocation of it.
Recovered to date is the sum of the live recovery entries (a reversed one no longer counts)."""
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, column_property

from .collection import Collection
from .loan import Loan, LoanEntry, Repayment

_recovery, _reversal = aliased(LoanEntry), aliased(LoanEntry)


def _deferred(expression):
    if hasattr(expression, "scalar_subquery"):
        expression = expression.scalar_subquery()
    return column_property(expression, deferred=True)


def _recovered(part):
    """Σ `part` of the loan's live 核销后收回 (the replay's allocation, stored per repayment)."""
    return (select(func.coalesce(func.sum(part), 0))
            .where(Repayment.loan_id == LoanEntry.loan_id, Repayment.kind == "recovery",
                   Repayment.reversed_on.is_(None))
            .correlate_except(Repayment))


def _still_owed(expression):
    return select(expression).where(Loan.id == LoanEntry.loan_id).correlate_except(Loan)


LoanEntry.recovered_amount = _deferred(
    select(func.coalesce(func.sum(_recovery.amount), 0))
    .where(_recovery.loan_id == LoanEntry.loan_id, _recovery.kind == "recovery",
           ~exists().where(and_(_reversal.reverses_id == _recovery.id, _reversal.kind == "reversal")))
    .correlate(LoanEntry))

LoanEntry.written_off_principal = _deferred(
    (_still_owed(Loan.outstanding_principal).scalar_subquery()
     + _recovered(Repayment.principal_part).scalar_subquery()))

LoanEntry.written_off_interest = _deferred(
    (_still_owed(Loan.overdue_interest).scalar_subquery()
     + _recovered(Repayment.interest_part).scalar_subquery()))

# 罚息 + 复利 (a recovery's penalty_part holds its 罚息, 复利 and any fee it paid)
LoanEntry.written_off_penalty = _deferred(
    (_still_owed(Loan.penalty_interest + Loan.compound_interest).scalar_subquery()
     + _recovered(Repayment.penalty_part).scalar_subquery()))

LoanEntry.last_collection_at = _deferred(
    select(func.max(Collection.contacted_at)).where(Collection.loan_id == LoanEntry.loan_id)
    .correlate_except(Collection))
