"""Server-side session validity. The signed cookie only carries a random token; the session is
valid while its row in user_session exists and is neither idle longer than IDLE_TIMEOUT nor
older than ABSOLUTE_TIMEOUT (both checked here against server times). A change of a user's
password, roles or active flag, and a logout, delete every row of that user: a cookie captured
before is worth nothing afterwards."""
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, flash, session
from sqlalchemy import delete, event, inspect
from sqlalchemy.orm import Session

from admin_app.extensions import db
from models.user import User, UserSession
from models.clock import utc_now

SESSION_KEY = "sid"
# last_seen_at is written at most this often: idle limits are minutes, a write per click is waste.
TOUCH_EVERY = timedelta(seconds=60)
# A change to any of these ends all of the user's sessions.
SESSION_ENDING_FIELDS = ("password_hash", "roles_csv", "active")


def now() -> datetime:
    """The clock for session limits, as stored (naive UTC; tests move it)."""
    return utc_now()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> None:
    """Record a new login of `user` and put its token into the (fresh) cookie session."""
    started = now()
    token = secrets.token_urlsafe(32)
    purge_expired()
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=started,
                               last_seen_at=started))
    db.session.commit()
    session[SESSION_KEY] = token


def end_all_sessions(user_id: int) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def session_is_valid(user: User) -> bool:
    """Whether the request's cookie names a live session of `user`; touches it if so."""
    token = session.get(SESSION_KEY)
    row = db.session.get(UserSession, _hash(token)) if isinstance(token, str) else None
    if row is None or row.user_id != user.id:
        return False
    at = now()
    idle = timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
    absolute = timedelta(hours=current_app.config["ABSOLUTE_TIMEOUT_HOURS"])
    if at - row.last_seen_at > idle or at - row.created_at > absolute:
        db.session.delete(row)
        db.session.commit()
        flash("登录已超时,请重新登录。", "info")
        return False
    if at - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = at
        db.session.commit()
    return True


def purge_expired() -> int:
    """Delete rows past either limit (housekeeping at each login); returns how many."""
    at = now()
    idle = timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
    absolute = timedelta(hours=current_app.config["ABSOLUTE_TIMEOUT_HOURS"])
    result = db.session.execute(delete(UserSession).where(
        (UserSession.last_seen_at < at - idle) | (UserSession.created_at < at - absolute)))
    from admin_app.once import purge_spent

    # a day's margin beyond the longest session: a token is never forgotten while a page
    # that carries it can still be submitted
    purge_spent(at - absolute - timedelta(days=1))
    return result.rowcount or 0


def _end_sessions_on_account_change(session_: Session, flush_context, instances) -> None:
    for obj in list(session_.dirty):
        if isinstance(obj, User) and obj.id is not None:
            state = inspect(obj)
            if any(state.attrs[f].history.has_changes() for f in SESSION_ENDING_FIELDS):
                session_.connection().execute(delete(UserSession).where(UserSession.user_id == obj.id))


def install(session_factory) -> None:
    event.listen(session_factory, "before_flush", _end_sessions_on_account_change)
