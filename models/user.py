"""Staff accounts and their roles."""
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now


def password_hash_method() -> str:
    """scrypt unless the app's PASSWORD_HASH_METHOD says otherwise (the test suite uses a
    one-round hash so that a test's seven demo accounts cost microseconds, not a second)."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)  # unique: see below
    display_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    # Comma-separated role keys of admin_app.permissions.ROLES.
    roles_csv: Mapped[str] = mapped_column(String(256), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
    # Set when an admin creates the account or resets its password: the user chooses their own
    # at the next login before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                       server_default=false())

    @property
    def roles(self) -> set[str]:
        return {r for r in (self.roles_csv or "").split(",") if r}

    @roles.setter
    def roles(self, values) -> None:
        self.roles_csv = ",".join(sorted(set(values)))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated staff cannot log in
        return bool(self.active)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.display_name or self.username

    @staticmethod
    def label_sql(entity):
        """__str__ as SQL, for exports that select columns instead of objects."""
        return func.coalesce(func.nullif(entity.display_name, ""), entity.username)


# `Admin` beside `admin` would be two accounts staff cannot tell apart.
Index("uq_user_account_username_ci", func.lower(User.username), unique=True)


class UserSession(db.Model):
    """A login, known to the server: the cookie carries a random token whose SHA-256 is the key
    here. Deleting a user's rows ends every session of theirs at once (logout, password change
    or reset, role change, deactivation); idle and absolute limits are checked against these
    times, not against anything the browser sends back."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
