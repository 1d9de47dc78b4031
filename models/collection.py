"""Collection (催收) records and their uploaded receipts."""
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now
from .bounds import bound_check
from .types import Money


class Collection(db.Model):
    __tablename__ = "collection"
    __table_args__ = (
        CheckConstraint("promised_amount IS NULL OR promised_amount >= 0", name="ck_collection_promise"),
        bound_check("collection"),
        Index("ix_collection_loan", "loan_id", "id"),
        # The 待上传回执 screens list records that need a receipt and have none yet.
        Index("ix_collection_receipt_wait", "needs_receipt", "has_receipt", "target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_no: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False)
    target: Mapped[str] = mapped_column(String(16), nullable=False, default="borrower")
    guarantor_id: Mapped[int | None] = mapped_column(ForeignKey("guarantor.id"), index=True)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    contacted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[str | None] = mapped_column(Text)
    promised_date: Mapped[date | None] = mapped_column(Date)
    promised_amount = mapped_column(Money)
    next_follow_up: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="following")
    needs_receipt: Mapped[bool] = mapped_column(nullable=False, default=False)
    has_receipt: Mapped[bool] = mapped_column(nullable=False, default=False)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    loan = relationship("Loan", lazy="joined", innerjoin=True)
    guarantor = relationship("Guarantor", lazy="joined")
    collector = relationship("User", lazy="joined")

    def __str__(self) -> str:
        return self.collection_no


class Receipt(db.Model):
    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"), nullable=False, index=True)
    stored_name: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    original_name: Mapped[str] = mapped_column(String(256), nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    collection = relationship("Collection", lazy="joined")
    uploaded_by = relationship("User", lazy="joined")
