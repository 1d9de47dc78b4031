"""one time rule: every timestamp is stored as naive UTC (shown in DISPLAY_TIMEZONE)

Before this revision a book held two conventions side by side (issue 13: 利率调整记录 23:24,
audit log 07:24, same minute):

- columns the application stamped with Python's `datetime.now()` or took as typed by a user
  (audit_log.at, approval_step.acted_at, the submitted_at/decided_at of every reviewed item,
  interview.held_at, collection.contacted_at, warning.handled_at, job_run.*, setting.updated_at,
  snapshot_month.written_at, user_session.*, form_submission.created_at) hold the wall time of
  the application server's zone. ASSUMED: that zone is LEGACY_APP_TIME_ZONE (environment),
  default Asia/Shanghai — a lender's server in China. A server that ran in UTC (many
  containers do) must set LEGACY_APP_TIME_ZONE=UTC before upgrading, and nothing is shifted.
- columns filled by the database's default (every created_at, import_record.at, pii_access.at,
  receipt.uploaded_at, user_account.created_at): SQLite's CURRENT_TIMESTAMP is UTC already and
  is left alone; PostgreSQL's now() was written in the session's TimeZone. ASSUMED: that is
  the server's current TimeZone setting (override with LEGACY_DB_TIME_ZONE); when it is UTC
  nothing is shifted.

Each shift is the zone's offset at the row's own time on PostgreSQL (timezone()); on SQLite a
zone without daylight saving (Asia/Shanghai) is one fixed offset, and a zone with daylight
saving is converted row by row in Python. PostgreSQL's column defaults become
timezone('utc', now()). Downgrade shifts back by the same assumptions.

Revision ID: f4b8d2e6a1c9
Revises: f4b8c2d6e1a9
Create Date: 2026-12-01 03:30:00

"""
import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = 'f4b8d2e6a1c9'
down_revision = 'f4b8c2d6e1a9'
branch_labels = None
depends_on = None

REVIEWED = ('inspection', 'classification_change', 'write_off', 'repayment_reversal', 'extension_application')
APP_STAMPED = [('audit_log', 'at'), ('approval_step', 'acted_at'), ('interview', 'held_at'),
               ('collection', 'contacted_at'), ('warning', 'handled_at'), ('job_run', 'started_at'),
               ('job_run', 'finished_at'), ('job_run', 'requested_at'), ('setting', 'updated_at'),
               ('snapshot_month', 'written_at'), ('user_session', 'created_at'),
               ('user_session', 'last_seen_at'), ('form_submission', 'created_at')]
APP_STAMPED += [(t, c) for t in REVIEWED for c in ('submitted_at', 'decided_at')]
DB_STAMPED = [(t, 'created_at') for t in ('user_account', 'loan', 'rate_change', 'extension', 'repayment',
                                          'loan_entry', 'interview', 'collection') + REVIEWED]
DB_STAMPED += [('approval_step', 'acted_at'), ('import_record', 'at'), ('pii_access', 'at'),
               ('receipt', 'uploaded_at'), ('audit_log', 'at')]
# Columns with a server default (their default changes on PostgreSQL).
DEFAULTED = DB_STAMPED


def _app_zone() -> str:
    return os.environ.get('LEGACY_APP_TIME_ZONE') or 'Asia/Shanghai'


def _db_zone(bind) -> str:
    if bind.dialect.name != 'postgresql':
        return 'UTC'  # CURRENT_TIMESTAMP
    return os.environ.get('LEGACY_DB_TIME_ZONE') or bind.execute(sa.text("SELECT current_setting('TimeZone')")).scalar()


def _is_utc(zone: str) -> bool:
    return ZoneInfo(zone).utcoffset(datetime(2001, 1, 1)) == ZoneInfo(zone).utcoffset(datetime(2001, 7, 1)) \
        and ZoneInfo(zone).utcoffset(datetime(2001, 1, 1)).total_seconds() == 0


def _fixed_minutes(zone: str):
    """The zone's offset in minutes when it has no daylight saving, else None."""
    z = ZoneInfo(zone)
    winter, summer = z.utcoffset(datetime(2001, 1, 1)), z.utcoffset(datetime(2001, 7, 1))
    return int(winter.total_seconds() // 60) if winter == summer else None


def _shift(bind, table: str, column: str, zone: str, to_utc: bool) -> None:
    if _is_utc(zone):
        return
    q = f'"{table}"'
    if bind.dialect.name == 'postgresql':
        zone_sql = zone.replace("'", "''")
        value = (f"timezone('UTC', timezone('{zone_sql}', {column}))" if to_utc
                 else f"timezone('{zone_sql}', timezone('UTC', {column}))")
        bind.execute(sa.text(f"UPDATE {q} SET {column} = {value} WHERE {column} IS NOT NULL"))
        return
    minutes = _fixed_minutes(zone)
    if minutes is not None:
        delta = -minutes if to_utc else minutes
        # The seconds' fraction (SQLAlchemy writes .ffffff) is kept as written.
        bind.execute(sa.text(f"UPDATE {q} SET {column} = strftime('%Y-%m-%d %H:%M:%S', {column}, "
                             f"'{delta:+d} minutes') || substr({column}, 20) WHERE {column} IS NOT NULL"))
        return
    z = ZoneInfo(zone)
    rows = bind.execute(sa.text(f"SELECT rowid, {column} FROM {q} WHERE {column} IS NOT NULL")).all()
    for rowid, raw in rows:
        value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        if to_utc:
            new = value.replace(tzinfo=z).astimezone(timezone.utc).replace(tzinfo=None)
        else:
            new = value.replace(tzinfo=timezone.utc).astimezone(z).replace(tzinfo=None)
        bind.execute(sa.text(f"UPDATE {q} SET {column} = :v WHERE rowid = :r"),
                     {"v": new.isoformat(sep=' '), "r": rowid})


def _guard(bind, on: bool) -> None:
    """pii_access is append-only (models.privacy): on PostgreSQL, where its rows may shift, its
    trigger steps aside for the conversion (SQLite's database-stamped columns do not move)."""
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text(f"ALTER TABLE pii_access {'ENABLE' if on else 'DISABLE'} TRIGGER pii_access_no_change"))


def _convert(to_utc: bool) -> None:
    bind = op.get_bind()
    app_zone, db_zone = _app_zone(), _db_zone(bind)
    app_columns = set(APP_STAMPED)
    _guard(bind, False)
    for table, column in APP_STAMPED:
        _shift(bind, table, column, app_zone, to_utc)
    for table, column in DB_STAMPED:
        if (table, column) not in app_columns:
            _shift(bind, table, column, db_zone, to_utc)
    _guard(bind, True)


def _defaults(expression: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite: CURRENT_TIMESTAMP is UTC already
    for table, column in DEFAULTED:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN {column} SET DEFAULT {expression}')


def upgrade():
    _convert(to_utc=True)
    _defaults("timezone('utc', now())")


def downgrade():
    _defaults("now()")
    _convert(to_utc=False)
