"""The audit log: who changed what, when, with before and after values. Append-only."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_record", "table_name", "record_id"),
        Index("ix_audit_loan", "loan_id"),
        Index("ix_audit_at", "at"),
        Index("ix_audit_username", "username", "id"),  # 操作日志 search by 操作人
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    table_name: Mapped[str] = mapped_column(String(48), nullable=False)
    record_id: Mapped[str | None] = mapped_column(String(48))
    loan_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
    summary: Mapped[str | None] = mapped_column(String(256))

    user = relationship("User", lazy="joined")
