"""Personal information (个人信息): which columns hold a person's identifiers, how each kind
is masked, and the append-only record of who saw or exported full identifiers.

A column declares its kind once, where it is defined:

    phone = mapped_column(String(20), info=personal("phone"))

and every screen, lookup, export, printed page and the audit log read that declaration
(admin_app.privacy); nothing formats identifiers per screen."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import DDL, DateTime, ForeignKey, Index, Integer, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now

INFO_KEY = "pii"


def personal(kind: str) -> dict:
    """The column `info` declaring a column personal data of `kind` (a key of MASKS)."""
    assert kind in MASKS, kind
    return {INFO_KEY: kind}


@dataclass(frozen=True)
class Mask:
    """Keep at most `head` leading and `tail` trailing characters; the rest become one '*'
    each, or `fill` (which also hides the length). A short value keeps fewer: at least a
    third of it is always hidden."""

    label: str
    head: int
    tail: int
    fill: str | None = None

    def kept(self, length: int) -> tuple[int, int]:
        budget = length - -(-length // 3)  # length minus ceil(length / 3)
        head, tail = self.head, self.tail
        while head + tail > budget:
            if head >= tail and head:
                head -= 1
            else:
                tail -= 1
        return head, tail

    def apply(self, value: str) -> str:
        head, tail = self.kept(len(value))
        hidden = len(value) - head - tail
        middle = self.fill if self.fill is not None else "*" * hidden
        return value[:head] + middle + (value[len(value) - tail:] if tail else "")


# Administrative units down to the district (区/县/旗, or a county-level 市).
_PROVINCE = r"(?:[^省市区县\d]{1,7}(?:省|自治区|特别行政区))?"
_CITY = r"(?:[^省市区县\d]{1,9}(?:市|自治州|地区|盟))?"
_DISTRICT = r"(?:[^省市区县\d]{1,9}(?:区|县|旗|市))?"
_DISTRICT_PREFIX = re.compile(_PROVINCE + _CITY + _DISTRICT)
ADDRESS_FILL = "****"


@dataclass(frozen=True)
class DistrictMask:
    """An address down to its district: 「浙江省杭州市西湖区****」. Nothing below the district
    (street, number, building, room) is shown; an address without recognisable units shows
    nothing but the fill."""

    label: str

    def apply(self, value: str) -> str:
        prefix = _DISTRICT_PREFIX.match(value).group(0)
        return prefix + ADDRESS_FILL


# The kinds of personal data. None: personal (counts as personal data in exports and is
# anonymised after retention) but shown as is — staff work by the customer's name.
MASKS: dict[str, Mask | DistrictMask | None] = {
    "id_number": Mask("证件号码", head=6, tail=4),
    "phone": Mask("联系电话", head=3, tail=4),
    "account": Mask("银行账号", head=4, tail=4, fill=" **** **** "),
    "address": DistrictMask("地址"),
    "name": None,
}


def mask_value(kind: str | None, value):
    """`value` as shown by default: masked when its kind masks, else unchanged."""
    rule = MASKS.get(kind) if kind else None
    if rule is None or value is None or value == "":
        return value
    return rule.apply(str(value))


def column_kind(column) -> str | None:
    """The declared kind of a Column (or a ColumnProperty / instrumented attribute)."""
    prop = getattr(column, "property", column)
    columns = getattr(prop, "columns", None)
    if columns:
        column = columns[0]
    info = getattr(column, "info", None) or {}
    return info.get(INFO_KEY)


@cache
def declared_fields(model) -> dict[str, str]:
    """{attribute: kind} of every personal column of a mapped class."""
    return {attr.key: kind for attr in inspect(model).column_attrs
            if (kind := column_kind(attr.columns[0]))}


@cache
def table_fields(table_name: str) -> dict[str, str]:
    """{column: kind} of a table, by name (the audit log stores table names)."""
    table = db.metadata.tables.get(table_name)
    if table is None:
        return {}
    return {c.key: c.info[INFO_KEY] for c in table.columns if INFO_KEY in c.info}


def mask_record(table_name: str, values: dict | None) -> dict | None:
    """A dict of column values (an audit log's before/after) with identifiers masked."""
    if not values:
        return values
    fields = table_fields(table_name)
    return {k: mask_value(fields.get(k), v) for k, v in values.items()}


# ---- the record of access: 敏感信息查看记录 ---------------------------------------------------

REVEAL_REASONS = {"verify": "核实身份", "collect": "催收联系", "contract": "合同办理", "other": "其他"}
ACCESS_ACTIONS = {"reveal": "查看完整信息", "export_full": "完整信息导出", "export_large": "大批量导出"}


class PiiAccess(db.Model):
    """One reveal of one field of one record, or one export of personal data. Append-only:
    the database refuses UPDATE and DELETE (triggers below), the session refuses them too."""

    __tablename__ = "pii_access"
    __table_args__ = (
        Index("ix_pii_access_at", "at"),
        Index("ix_pii_access_user", "username", "id"),
        Index("ix_pii_access_record", "table_name", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    table_name: Mapped[str] = mapped_column(String(48), nullable=False)
    record_id: Mapped[str | None] = mapped_column(String(48))
    field: Mapped[str | None] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    reason_text: Mapped[str | None] = mapped_column(String(256))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    row_count: Mapped[int | None] = mapped_column(Integer)
    filters: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(256))


APPEND_ONLY_MESSAGE = "敏感信息查看记录不可修改或删除"

# The database itself refuses changes to the record, whoever connects.
APPEND_ONLY_DDL = {
    "sqlite": (
        ["CREATE TRIGGER IF NOT EXISTS pii_access_no_update BEFORE UPDATE ON pii_access "
         f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
         "CREATE TRIGGER IF NOT EXISTS pii_access_no_delete BEFORE DELETE ON pii_access "
         f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"],
        ["DROP TRIGGER IF EXISTS pii_access_no_update", "DROP TRIGGER IF EXISTS pii_access_no_delete"],
    ),
    "postgresql": (
        ["CREATE OR REPLACE FUNCTION pii_access_append_only() RETURNS trigger AS $$ BEGIN "
         f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END; $$ LANGUAGE plpgsql",
         "CREATE TRIGGER pii_access_no_change BEFORE UPDATE OR DELETE ON pii_access "
         "FOR EACH ROW EXECUTE FUNCTION pii_access_append_only()"],
        ["DROP TRIGGER IF EXISTS pii_access_no_change ON pii_access",
         "DROP FUNCTION IF EXISTS pii_access_append_only()"],
    ),
}


def set_append_only_guard(connection, on: bool) -> None:
    """Create (or drop) the triggers. Dropping is for emptying a test database only."""
    create, drop = APPEND_ONLY_DDL.get(connection.dialect.name, ((), ()))
    for statement in create if on else drop:
        connection.execute(DDL(statement))


event.listen(PiiAccess.__table__, "after_create",
             lambda target, connection, **kw: set_append_only_guard(connection, True))
