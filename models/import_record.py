"""导入记录: every import committed or refused (who, when, file, SHA-256, rows per outcome),
and the balances a loan import left to check once the loan's repayments are imported."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now
from .types import Money

IMPORT_OUTCOMES = {"imported": "已导入", "partial": "部分导入", "refused": "未导入(有错误)",
                   "unchanged": "无变化"}


class ImportRecord(db.Model):
    __tablename__ = "import_record"
    __table_args__ = (Index("ix_import_record_kind", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    file_format: Mapped[str] = mapped_column(String(8), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)  # all | valid (services.importing.MODES)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_error: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The error report (original rows + 错误原因) kept under UPLOAD_FOLDER, if any row failed.
    report_name: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    user = relationship("User", lazy="joined")

    def __str__(self) -> str:
        return f"导入 {self.file_name}"


class ImportBalanceCheck(db.Model):
    """The old system's 剩余本金 and 逾期金额 of an imported loan (each when the file gave it),
    compared with the replay once the loan's repayments are imported."""

    __tablename__ = "import_balance_check"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), primary_key=True)
    outstanding_principal = mapped_column(Money)
    overdue_amount = mapped_column(Money)
    import_record_id: Mapped[int | None] = mapped_column(ForeignKey("import_record.id"))
