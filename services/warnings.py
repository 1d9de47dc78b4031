"""Handling (跟进) of warnings the daily job produced: the state and a dated note, by whom
and when. Only current rows (those of the newest run) are handled; the job carries the
handling over to the next day's rows of the same subject."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app import clock
from admin_app.audit import log_action
from models.enums import HANDLING_STATES, WARNING_KINDS
from models.warning import JobRun, Warning
from services import BusinessError

HANDLED_STATES = ("following", "done")
NOTE_MAX = 500
HISTORY_MAX = 4000


def latest_as_of(session: Session) -> date | None:
    """The as-of date of the current warnings: that of the newest successful daily run."""
    day = session.execute(select(JobRun.as_of).where(JobRun.job == "daily", JobRun.outcome == "ok")
                          .order_by(JobRun.id.desc()).limit(1)).scalar()
    if day is None:
        day = session.execute(select(func.max(Warning.as_of)).where(Warning.is_current)).scalar()
    return day


def handle_warning(session: Session, warning: Warning, *, state: str, note: str, user) -> Warning:
    """Record a follow-up on `warning`: its new state, and the note appended (dated and
    signed) to the notes before it."""
    if state not in HANDLED_STATES:
        raise BusinessError("请选择处理状态:跟进中或已处理")
    note = (note or "").strip()
    if not note:
        raise BusinessError("请填写跟进说明")
    if len(note) > NOTE_MAX:
        raise BusinessError(f"跟进说明不能超过 {NOTE_MAX} 字")
    if not warning.is_current:
        raise BusinessError("这条预警不是最新一期的预警,请在最新预警中跟进")
    now = clock.utc_now()
    entry = f"[{clock.shown(now):%Y-%m-%d %H:%M} {user.display_name or user.username} {HANDLING_STATES[state]}] {note}"
    history = f"{warning.note}\n{entry}" if warning.note else entry
    warning.handling_state = state
    warning.note = history[-HISTORY_MAX:]
    warning.handled_by_id = user.id
    warning.handled_at = now
    session.flush()
    log_action(session, warning, "handle",
               f"{WARNING_KINDS.get(warning.kind, warning.kind)}跟进:{warning.customer_name} "
               f"{warning.loan_no or ''} → {HANDLING_STATES[state]}",
               after={"handling_state": state, "note": note})
    return warning
