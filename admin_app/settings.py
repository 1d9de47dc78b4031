"""Parameters admins may change, with their defaults, labels and validation. Stored in the
`setting` table; read through get_int / get_time so callers never parse strings."""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation

from flask import has_request_context, request
from sqlalchemy import select

from admin_app.extensions import db
from models.warning import Setting
from models.clock import utc_now


@dataclass(frozen=True)
class Param:
    key: str
    label: str
    default: str
    kind: str = "int"  # int | time | money | rate (percent) | text | roles (comma-separated role keys) | choice
    min: int = 0
    max: int = 3650
    group: str = "预警参数"
    choices: tuple = ()  # kind "choice": (value, label) pairs

    @property
    def default_label(self) -> str:
        return dict(self.choices).get(self.default, self.default)

    @property
    def range_text(self) -> str:
        if self.kind == "choice":
            return " / ".join(label for _, label in self.choices)
        return {"int": f"{self.min} – {self.max}", "time": "时:分,如 08:00", "money": "大于0,最多两位小数",
                "rate": "大于0且小于100,最多四位小数", "text": "1 – 500 字",
                "roles": "角色代码,逗号分隔:admin, officer, collector, risk_checker, risk_approver, reviewer"}[self.kind]


PARAMS: tuple[Param, ...] = (
    Param("lead_days.credit_expiry", "授信到期预警提前天数", "30"),
    Param("lead_days.mortgage_expiry", "抵押到期预警提前天数", "30"),
    Param("lead_days.pledge_expiry", "质押到期预警提前天数", "30"),
    Param("lead_days.inspection_due", "贷后检查预警提前天数", "7"),
    Param("lead_days.repayment_due", "还款到期预警提前天数", "7"),
    Param("class.attention_days", "关注类逾期天数下限(超过)", "0", group="五级分类参数"),
    Param("class.substandard_days", "次级类逾期天数下限(超过)", "90", group="五级分类参数"),
    Param("class.doubtful_days", "可疑类逾期天数下限(超过)", "270", group="五级分类参数"),
    Param("class.loss_days", "损失类逾期天数下限(超过)", "360", group="五级分类参数"),
    Param("collection.start", "催收允许开始时间", "08:00", kind="time", group="催收参数"),
    Param("collection.end", "催收允许结束时间", "21:00", kind="time", group="催收参数"),
    Param("loan.single_limit", "单笔贷款金额上限(元)", "10000000.00", kind="money", group="贷款参数"),
    Param("loan.rate_ceiling", "年化利率上限(%)", "24", kind="rate", group="贷款参数"),
    Param("loan.rate_ceiling_basis", "年化利率上限依据", "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》"
          "及地方金融监管部门对小额贷款公司综合实际利率的要求", kind="text", group="贷款参数"),
    Param("privacy.reveal_roles", "可查看完整个人信息的角色(客户经理限本人客户,催收专员限催收中贷款)",
          "admin,officer,collector", kind="roles", group="个人信息保护"),
    Param("privacy.export_confirm_rows", "含个人信息的导出超过此行数需确认并记录", "5000", min=1,
          max=10_000_000, group="个人信息保护"),
    Param("privacy.retention_years", "结清或核销后个人信息保留年限(到期匿名化)", "5", min=1, max=30,
          group="个人信息保护"),
)



def _scope_params() -> tuple[Param, ...]:
    from admin_app.data_scope import DEFAULT_OWN_ROLES, OWN, ALL, SCOPES, setting_key
    from admin_app.permissions import ROLES

    return tuple(Param(setting_key(role), f"{label}数据权限", OWN if role in DEFAULT_OWN_ROLES else ALL,
                       kind="choice", group="数据权限", choices=tuple(SCOPES.items()))
                 for role, label in ROLES.items())


PARAMS = PARAMS + (
    Param("company.name", "公司名称(催收通知书落款)", "小额贷款有限公司", kind="text", group="公司信息"),
    Param("extension.allow_overdue", "逾期贷款可申请展期", "no", kind="choice", group="展期参数",
          choices=(("no", "不允许"), ("yes", "允许"))),
) + _scope_params()
PARAMS_BY_KEY = {p.key: p for p in PARAMS}


_frozen: ContextVar[dict | None] = ContextVar("settings_frozen", default=None)


@contextmanager
def frozen():
    """Each parameter read once for the duration: a long run (an import of 100,000 loans
    checks each against the same limits) sees the values of one moment, not a query a loan."""
    token = _frozen.set({})
    try:
        yield
    finally:
        _frozen.reset(token)


_REQUEST_CACHE = "_settings_read"


def _cache() -> dict | None:
    """The values read so far: within frozen(), else within the current request (a page reads
    the same parameter several times: 贷款详情 seven reads of four keys)."""
    cache = _frozen.get()
    if cache is None and has_request_context():
        cache = request.__dict__.setdefault(_REQUEST_CACHE, {})
    return cache


_ALL_READ = "\0all"  # cache marker: every stored parameter has been read into it


def _raw(key: str) -> str:
    cache = _cache()
    if cache is not None:
        if key in cache:
            return cache[key]
        if _ALL_READ not in cache:
            # The first read of a request reads them all (a few dozen short rows, one
            # statement): a page reads four to six keys, each a statement before.
            cache[_ALL_READ] = True
            stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
            for param in PARAMS:
                cache[param.key] = stored.get(param.key, param.default)
            if key in cache:
                return cache[key]
    value = db.session.execute(select(Setting.value).where(Setting.key == key)).scalar()
    value = value if value is not None else PARAMS_BY_KEY[key].default
    if cache is not None:
        cache[key] = value
    return value


def get_int(key: str) -> int:
    return int(_raw(key))


def get_decimal(key: str) -> Decimal:
    return Decimal(_raw(key))


def get_text(key: str) -> str:
    return _raw(key)


def get_time(key: str) -> time:
    hh, mm = _raw(key).split(":")
    return time(int(hh), int(mm))


def get_roles(key: str) -> frozenset:
    return frozenset(r for r in _raw(key).split(",") if r)


def get_choice(key: str) -> str:
    return _raw(key)


def validate(key: str, value: str) -> str:
    """Return the normalised value or raise ValueError with a Chinese message."""
    p = PARAMS_BY_KEY[key]
    value = (value or "").strip()
    if p.kind == "roles":
        from admin_app.permissions import ROLES

        keys = [r.strip() for r in value.replace("，", ",").split(",") if r.strip()]
        unknown = [r for r in keys if r not in ROLES]
        if unknown:
            raise ValueError(f"{p.label}:未知角色 {'、'.join(unknown)}(可选:{', '.join(ROLES)})")
        return ",".join(r for r in ROLES if r in keys)
    if p.kind == "choice":
        if value not in dict(p.choices):
            raise ValueError(f"{p.label}只能选择:" + "、".join(label for _, label in p.choices))
        return value
    if p.kind == "int":
        if not (value.isascii() and value.isdigit()):  # `²`.isdigit() is True: not a number here
            raise ValueError(f"{p.label}必须是整数")
        n = int(value)
        if not p.min <= n <= p.max:
            raise ValueError(f"{p.label}必须在 {p.min} 到 {p.max} 之间")
        return str(n)
    if p.kind in ("money", "rate"):
        return _validate_number(p, value)
    if p.kind == "text":
        if not value or len(value) > 500:
            raise ValueError(f"{p.label}应为 1 到 500 个字")
        return value
    try:
        hh, mm = value.split(":")
        if not (hh.isascii() and hh.isdigit() and mm.isascii() and mm.isdigit() and len(mm) == 2):
            raise ValueError
        t = time(int(hh), int(mm))
    except (ValueError, TypeError):
        raise ValueError(f"{p.label}格式应为 时:分(如 08:00)") from None
    window = TIME_WINDOWS.get(key)
    if window and not window[0] <= t <= window[1]:
        raise ValueError(f"{p.label}必须在 {window[0]:%H:%M} 到 {window[1]:%H:%M} 之间(催收行为规范)")
    return t.strftime("%H:%M")


# Collection contact hours may be narrowed by admins, never widened past the conduct rules'
# 06:00–22:00; the start must come before the end (a window across midnight is refused).
TIME_WINDOWS = {"collection.start": (time(6, 0), time(22, 0)), "collection.end": (time(6, 0), time(22, 0))}
COLLECTION_WINDOW = ("collection.start", "collection.end")


def collection_window_problem(values: dict[str, str]) -> dict[str, str]:
    """{key: message} when the allowed collection hours do not run forwards within a day."""
    start, end = (values.get(k) for k in COLLECTION_WINDOW)
    if start and end and not start < end:  # HH:MM strings compare as times
        return {"collection.end": f"催收允许结束时间({end})必须晚于开始时间({start})"}
    return {}


def _validate_number(p: Param, value: str) -> str:
    from models.bounds import money_problem, rate_problem

    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{p.label}必须是数字") from None
    problem = (money_problem if p.kind == "money" else rate_problem)(number, p.label)
    if problem:
        raise ValueError(problem)
    if number <= 0 or (p.kind == "rate" and number >= 100):
        raise ValueError(f"{p.label}取值范围:{p.range_text}")
    return f"{number:.2f}" if p.kind == "money" else f"{number.normalize():f}"


CLASS_THRESHOLD_KEYS = ("class.attention_days", "class.substandard_days", "class.doubtful_days",
                        "class.loss_days")


def check_together(values: dict[str, str]) -> dict[str, str]:
    """Rules across parameters, on a full set of validated values: {key: message}.
    The five-class thresholds must rise strictly from 关注 to 损失 (a loan overdue longer is
    never classed better); the collection hours run forwards within a day."""
    days = [int(values[k]) for k in CLASS_THRESHOLD_KEYS]
    for i in range(1, len(days)):
        if days[i] <= days[i - 1]:
            chain = " < ".join(f"{PARAMS_BY_KEY[k].label.split('逾期')[0]}({d})"
                               for k, d in zip(CLASS_THRESHOLD_KEYS, days))
            return {CLASS_THRESHOLD_KEYS[i]: f"五级分类参数须逐级递增:{chain} 不成立"}
    return collection_window_problem(values)


def current_values() -> dict[str, str]:
    stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    return {p.key: stored.get(p.key, p.default) for p in PARAMS}


def set_value(key: str, value: str, user_id: int | None = None, *, checked_together: bool = False) -> None:
    """Store one parameter. Its rules across parameters are checked against the stored
    others, unless the caller checked the whole new set (check_together) already."""
    value = validate(key, value)
    problems = {} if checked_together else check_together({**current_values(), key: value})
    if problems:
        raise ValueError(next(iter(problems.values())))
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value)
        db.session.add(row)
    row.value = value
    row.updated_by_id = user_id
    row.updated_at = utc_now()
    cache = _cache()
    if cache is not None:
        cache.pop(key, None)
