"""One-time form tokens that have been spent: a create form submitted twice creates once
(see admin_app.once)."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import db


class FormSubmission(db.Model):
    """A form token spent by the submission that committed with it. The primary key is
    what lets only one of two identical submissions through, even at the same moment."""

    __tablename__ = "form_submission"
    __table_args__ = (Index("ix_form_submission_created", "created_at"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Where the first submission sent the user: a replay lands there too.
    location: Mapped[str | None] = mapped_column(String(512))
