"""Post-loan work that goes through staged approval: inspections, five-level
classification changes and write-offs; plus interviews and the approval trail."""
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now
from .bounds import bound_check
from .types import Money


class ReviewMixin:
    """Columns every reviewable item carries. `review_stage` is the key of the stage it
    waits at (see models.approval.WORKFLOWS); `version` guards conditional updates."""

    review_status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    review_stage: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    @declared_attr
    def proposer_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("user_account.id"), nullable=False)

    @declared_attr
    def proposer(cls):
        return relationship("User", foreign_keys=[cls.proposer_id], lazy="joined")

    @declared_attr
    def loan_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("loan.id"), nullable=False, index=True)

    @declared_attr
    def loan(cls):
        return relationship("Loan", lazy="joined", innerjoin=True)


class Interview(db.Model):
    __tablename__ = "interview"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    place: Mapped[str] = mapped_column(String(128), nullable=False)
    participants: Mapped[str] = mapped_column(String(256), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    follow_up: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    loan = relationship("Loan", lazy="joined")
    recorded_by = relationship("User", lazy="joined")


class Inspection(ReviewMixin, db.Model):
    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_stage", "review_status", "review_stage", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="routine")
    inspected_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False, default="onsite")
    operation_findings: Mapped[str | None] = mapped_column(Text)
    finance_findings: Mapped[str | None] = mapped_column(Text)
    fund_usage_findings: Mapped[str | None] = mapped_column(Text)
    collateral_findings: Mapped[str | None] = mapped_column(Text)
    guarantor_findings: Mapped[str | None] = mapped_column(Text)
    risk_signals: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str] = mapped_column(Text, nullable=False)
    # Attachment: stored file name (generated) plus the original name.
    attachment_path: Mapped[str | None] = mapped_column(String(128))
    attachment_name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())


class ClassificationChange(ReviewMixin, db.Model):
    __tablename__ = "classification_change"
    __table_args__ = (
        CheckConstraint("from_class BETWEEN 1 AND 5 AND to_class BETWEEN 1 AND 5",
                        name="ck_class_change_range"),
        Index("ix_class_change_stage", "review_status", "review_stage", "id"),
        # At most one open change per loan (pending or sent back for amendment).
        Index("uq_class_change_open", "loan_id", unique=True,
              sqlite_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'"),
              postgresql_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_class: Mapped[int] = mapped_column(Integer, nullable=False)
    to_class: Mapped[int] = mapped_column(Integer, nullable=False)
    suggested_class: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())


class WriteOff(ReviewMixin, db.Model):
    __tablename__ = "write_off"
    __table_args__ = (
        CheckConstraint("principal_amount >= 0 AND interest_amount >= 0", name="ck_write_off_amounts"),
        bound_check("write_off"),
        Index("ix_write_off_stage", "review_status", "review_stage", "id"),
        Index("uq_write_off_open", "loan_id", unique=True,
              sqlite_where=db.text("review_status != 'withdrawn'"),
              postgresql_where=db.text("review_status != 'withdrawn'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_amount = mapped_column(Money, nullable=False)
    interest_amount = mapped_column(Money, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    evidence_path: Mapped[str | None] = mapped_column(String(128))
    evidence_name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())


class RepaymentReversal(ReviewMixin, db.Model):
    """冲正: a proposal to reverse a posted repayment (officer -> 风控主管). Approval appends a
    reversal entry to the loan's ledger and replays it; the repayment itself stays."""

    __tablename__ = "repayment_reversal"
    __table_args__ = (
        Index("ix_repayment_reversal_stage", "review_status", "review_stage", "id"),
        # At most one open reversal per loan, and a repayment is reversed once.
        Index("uq_repayment_reversal_open", "loan_id", unique=True,
              sqlite_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'"),
              postgresql_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'")),
        Index("uq_repayment_reversal_done", "repayment_id", unique=True,
              sqlite_where=db.text("review_status = 'approved'"),
              postgresql_where=db.text("review_status = 'approved'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repayment_id: Mapped[int] = mapped_column(ForeignKey("repayment.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    repayment = relationship("Repayment", lazy="joined", innerjoin=True)


class ApprovalStep(db.Model):
    """The approval trail: one row per submission, approval or rejection."""

    __tablename__ = "approval_step"
    __table_args__ = (Index("ix_approval_step_item", "workflow", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(32), nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    stage: Mapped[str] = mapped_column(String(32), nullable=False)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    opinion: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    acted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    actor = relationship("User", lazy="joined")


class ExtensionApplication(ReviewMixin, db.Model):
    """展期申请: an officer's application to extend a loan's maturity, decided by 风控专员
    then 风控主管; only the final approval posts the extension (services.extension)."""

    __tablename__ = "extension_application"
    __table_args__ = (
        Index("ix_extension_application_stage", "review_status", "review_stage", "id"),
        # At most one open application per loan (waiting, or sent back for amendment).
        Index("uq_extension_application_open", "loan_id", unique=True,
              sqlite_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'"),
              postgresql_where=db.text("review_status != 'approved' AND review_status != 'withdrawn'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_maturity_date: Mapped[date] = mapped_column(Date, nullable=False)
    new_maturity_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extension.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
