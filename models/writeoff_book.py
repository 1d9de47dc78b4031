"""核销台账 figures of a write-off, read in the same query as the write-off (deferred until a
screen asks, then one correlated subquery each, never a query per row): what has come in
since (核销后收回, net of reversed ones) and the latest collection contact."""
from sqlalchemy import func, select
from sqlalchemy.orm import column_property

from .collection import Collection
from .loan import Repayment
from .review import WriteOff

WriteOff.recovered_amount = column_property(
    select(func.coalesce(func.sum(Repayment.amount), 0))
    .where(Repayment.loan_id == WriteOff.loan_id, Repayment.kind == "recovery",
           Repayment.reversed_on.is_(None))
    .correlate_except(Repayment).scalar_subquery(), deferred=True)

WriteOff.last_collection_at = column_property(
    select(func.max(Collection.contacted_at)).where(Collection.loan_id == WriteOff.loan_id)
    .correlate_except(Collection).scalar_subquery(), deferred=True)
