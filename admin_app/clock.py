"""Time as people read it, in one place.

Stored timestamps are naive UTC (models.clock). A person sees and types times in the zone
DISPLAY_TIMEZONE (config, default Asia/Shanghai) whatever the server's or the database's zone:
`shown` turns a stored value into that zone's wall time, `stored` turns a typed wall time into
the stored value. The business date (`business_date`) is today in that zone, or the date
pinned by BUSINESS_DATE (tests, demos)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from models.clock import utc_now  # noqa: F401  (re-exported: the one clock the app writes)

DEFAULT_ZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    name = current_app.config.get("DISPLAY_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def shown(stored_at: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as wall time in the display zone, naive."""
    if stored_at is None:
        return None
    if stored_at.tzinfo is None:
        stored_at = stored_at.replace(tzinfo=timezone.utc)
    return stored_at.astimezone(zone()).replace(tzinfo=None)


def stored(typed: datetime | None) -> datetime | None:
    """A wall time typed in the display zone (naive) as stored: naive UTC."""
    if typed is None:
        return None
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=zone())
    return typed.astimezone(timezone.utc).replace(tzinfo=None)


def local_now() -> datetime:
    """Now as a person in the display zone reads it (naive): form defaults, file names."""
    return shown(utc_now())


def business_date() -> date:
    """Today for business rules: the display zone's date, or BUSINESS_DATE when pinned."""
    pinned = current_app.config.get("BUSINESS_DATE") if has_app_context() else None
    if pinned:
        return pinned if isinstance(pinned, date) else date.fromisoformat(pinned)
    return local_now().date()


def day_of(column):
    """SQL: the display zone's date of a stored timestamp column (e.g. a contact's day)."""
    from models.clock import local_day

    return local_day(column, zone().key)
