"""Portfolio reports under 五级分类 (and 核销与收回 under 核销管理): each screen is a ReportView
whose build() turns services.portfolio figures into an admin_app.report.Report (tables, the
as-of date and filters) plus chart data; the page and its CSV/XLSX export come from the same
Report. Every figure that counts loans links to the loans behind it (views.analytics_loans)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_app.formats import count_text, money_text, percent_text
from admin_app.permissions import allowed
from admin_app.report import Cell, Report, Table, export_response
from admin_app.screens import PageView
from jobs.steps.snapshot import last_month_ends
from models.enums import FIVE_CLASSES
from models.portfolio_math import MIGRATION_RATES
from models.snapshot import AGEING_BUCKETS
from services import BusinessError, portfolio, snapshots
from services.portfolio import AsOf, MIGRATION_COLUMNS, MIGRATION_LABELS

CLASS_COLOURS = {1: "#2f9e44", 2: "#d4a900", 3: "#f08c00", 4: "#e8590c", 5: "#c92a2a"}
BUCKET_COLOURS = ("#2f9e44", "#94b800", "#d4a900", "#f08c00", "#e8590c", "#c92a2a")
RATE_COLOURS = ("#2f9e44", "#d4a900", "#f08c00", "#c92a2a", "#5c7cfa")
NPL_NOTE = "不良贷款率 = (次级类 + 可疑类 + 损失类贷款余额) ÷ 各项贷款余额 × 100%。"
SHARE_NOTE = ("占比按最大余数法取两位小数:先全部向下取整,再把差额的 0.01% 依次补给余数最大的类别,"
              "各类占比之和恰为 100.00%。")
SCOPE_NOTE = "统计范围:月末仍在贷(还款中、已展期、逾期)的贷款;余额为剩余本金。"
MIGRATION_NOTE = (
    "迁徙率口径(原银监会《非现场监管指标定义及计算公式》):某类贷款迁徙率 = 期初该类贷款向下迁徙金额 ÷ "
    "(期初该类贷款余额 − 期初该类贷款期间减少金额) × 100%。向下迁徙金额指期初该类贷款中,期末分类降为更差类别"
    "的贷款在期末的余额(正常类:降为关注、次级、可疑、损失;关注类:降为次级、可疑、损失;次级类:降为可疑、损失;"
    "可疑类:降为损失);期间减少金额指期初该类贷款在期间因收回、结清、处置或核销而减少的余额。正常贷款迁徙率 = "
    "(期初正常类和关注类贷款中期末转为不良贷款的余额) ÷ (期初正常类和关注类余额 − 其期间减少金额)。")
VINTAGE_NOTE = ("放款批次分析:按放款月份分组,第 N 个月(MOB,放款当月为 0)列出截至该月末曾逾期超过 30 天"
                "(M2 及以上)或超过 90 天(M4 及以上)的贷款本金占该批次放款本金的比例;已结清或核销的贷款按其最差"
                "逾期记录计入以后各月。")


@dataclass
class Selector:
    name: str
    label: str
    options: list[tuple[str, str]]
    value: str


def month_options(months: list[date], today: bool = False) -> list[tuple[str, str]]:
    options = [(d.isoformat(), f"{d:%Y-%m-%d} 月末") for d in months]
    return options + ([("today", "今日(实时)")] if today else [])


class ReportView(PageView):
    """A report page: selectors, tables and charts built by build(); export of the same tables."""

    template = "analytics/report.html"
    verbs = {"index": "view", "export": "export"}
    title = ""

    def build(self) -> tuple[Report, dict]:
        raise NotImplementedError

    def drill(self, as_of: AsOf | None = None, **filters) -> str | None:
        """The list of the loans behind a figure, when the user may open it."""
        endpoint = "snapshot_loans" if as_of is None or as_of.month_end else "portfolio_loans"
        if not allowed(current_user, endpoint):
            return None
        args = {f"q_{k}": v for k, v in filters.items() if v is not None and v != ""}
        if as_of is not None and as_of.month_end:
            args["q_month"] = as_of.month_end.isoformat()
        return url_for(f"{endpoint}.index_view", **args)

    @expose("/")
    def index(self):
        report, context = self.build()
        args = request.args.to_dict()
        return self.render(self.template, report=report, can_export=self.allowed("export"),
                           export_url=lambda kind: url_for(".export", export_type=kind, **args),
                           **context)

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        report, _context = self.build()
        return export_response(report, export_type, f"{snapshots.today():%Y%m%d}")


# ---- 五级分类统计 ---------------------------------------------------------------------------
class ClassStatsView(ReportView):
    template = "analytics/class_stats.html"
    verbs = {"index": "view", "export": "export", "rebuild": "rebuild"}
    title = "五级分类统计"

    def build(self):
        months = portfolio.snapshot_months()
        as_of = portfolio.parse_as_of(request.args.get("as_of"), months)
        by = request.args.get("by", "")
        by = by if by in portfolio.BREAKDOWNS else ""
        whole, groups = portfolio.class_statistics(as_of, by)
        meta = [("统计时点", as_of.label), ("分组", portfolio.BREAKDOWNS[by]), ("口径", SCOPE_NOTE)]
        report = Report(self.title, meta)
        rows = [[Cell(c.label), Cell(c.count, "int", self.drill(as_of, five_class=c.code)), Cell(c.count_share, "pct"),
                 Cell(c.balance, "money", self.drill(as_of, five_class=c.code)), Cell(c.balance_share, "pct")]
                for c in whole.cells]
        foot = [[Cell("合计"), Cell(whole.count, "int", self.drill(as_of)),
                 Cell(Decimal("100.00") if whole.count else Decimal("0.00"), "pct"),
                 Cell(whole.balance, "money", self.drill(as_of)),
                 Cell(Decimal("100.00") if whole.balance else Decimal("0.00"), "pct")],
                [Cell("不良贷款"), Cell(sum(c.count for c in whole.cells if c.code >= 3), "int", self.drill(as_of, npl=1)),
                 Cell(None), Cell(whole.npl_balance, "money", self.drill(as_of, npl=1)),
                 Cell(whole.npl_ratio, "pct", css="npl-ratio")]]
        report.tables.append(Table("class-stats", f"五级分类统计({as_of.label})",
                                   ["五级分类", "笔数", "笔数占比", "贷款余额(元)", "余额占比"], rows, foot,
                                   note=SHARE_NOTE + "末行「不良贷款」的余额占比即不良贷款率。"))
        if by:
            head = [portfolio.BREAKDOWNS[by][1:], "笔数", "贷款余额(元)"] + \
                [f"{name}余额" for name in FIVE_CLASSES.values()] + ["不良贷款余额", "不良贷款率"]
            report.tables.append(Table("class-groups", f"{portfolio.BREAKDOWNS[by]}({as_of.label})", head, [
                [Cell(g.label), Cell(g.count, "int", self.drill(as_of, **{by: g.key})),
                 Cell(g.balance, "money", self.drill(as_of, **{by: g.key}))]
                + [Cell(c.balance, "money", self.drill(as_of, five_class=c.code, **{by: g.key})) for c in g.cells]
                + [Cell(g.npl_balance, "money", self.drill(as_of, npl=1, **{by: g.key})), Cell(g.npl_ratio, "pct")]
                for g in groups]))
        trend = portfolio.class_trend(months)
        report.tables.append(Table("npl-trend", "不良贷款率趋势(最近12个月末)",
                                   ["月末", "贷款余额(元)"] + [f"{n}余额" for n in FIVE_CLASSES.values()]
                                   + ["不良贷款余额", "不良贷款率"], [
            [Cell(f"{t.month_end:%Y-%m-%d}"), Cell(t.balance, "money", self.drill(AsOf(t.month_end)))]
            + [Cell(t.by_class.get(c, (0, Decimal("0.00")))[1], "money", self.drill(AsOf(t.month_end), five_class=c))
               for c in FIVE_CLASSES]
            + [Cell(t.npl_balance, "money", self.drill(AsOf(t.month_end), npl=1)), Cell(t.npl_ratio, "pct")]
            for t in reversed(trend)], note=NPL_NOTE))
        selectors = [Selector("as_of", "统计时点", month_options(months, today=True), as_of.arg),
                     Selector("by", "分组", list(portfolio.BREAKDOWNS.items()), by)]
        bars = [dict(label=c.label, value=float(c.balance), display=f"{money_text(c.balance)} 元",
                     colour=CLASS_COLOURS[c.code], url=self.drill(as_of, five_class=c.code),
                     tip=f"{c.label}:{count_text(c.count)} 笔,余额 {money_text(c.balance)} 元,占 {percent_text(c.balance_share)}")
                for c in whole.cells]
        npl_line = [dict(name="不良贷款率", colour=CLASS_COLOURS[5], points=[
            dict(value=float(t.npl_ratio) if t.npl_ratio is not None else None,
                 tip=f"{t.month_end:%Y-%m-%d}:不良贷款率 {percent_text(t.npl_ratio)},不良余额 {money_text(t.npl_balance)} 元",
                 url=self.drill(AsOf(t.month_end), npl=1)) for t in trend])]
        rebuild_months = [d for d in last_month_ends(snapshots.today(), 25) if d < snapshots.today()][::-1]
        return report, dict(selectors=selectors, has_data=bool(months) or as_of.month_end is None,
                            bars=bars, npl_line=npl_line, trend_xs=[f"{t.month_end:%y-%m}" for t in trend],
                            held=snapshots.months(), rebuild_months=rebuild_months,
                            can_rebuild=self.allowed("rebuild"))

    @expose("/rebuild", methods=("POST",))
    def rebuild(self):
        try:
            day = date.fromisoformat(request.form.get("month_end", ""))
            result = snapshots.rebuild(day, current_user.username)
        except ValueError:
            flash("请选择要重算的月末", "error")
        except BusinessError as exc:
            flash(str(exc), "error")
        else:
            flash(result.describe(), "success")
            return redirect(url_for(".index", as_of=day.isoformat()))
        return redirect(url_for(".index"))


# ---- 五级分类迁徙 ---------------------------------------------------------------------------
class MigrationView(ReportView):
    template = "analytics/migration.html"
    title = "五级分类迁徙"

    def build(self):
        months = portfolio.snapshot_months()
        report = Report(self.title, [])
        context = dict(selectors=[], has_data=len(months) >= 2, lines=[], xs=[])
        if len(months) < 2:
            report.meta = [("说明", "至少需要两个月末快照")]
            return report, context
        end = portfolio.parse_as_of(request.args.get("end"), months, allow_today=False).month_end
        earlier = [d for d in months if d < end]
        start = portfolio.parse_as_of(request.args.get("start"), earlier, allow_today=False).month_end \
            if earlier else None
        if start is None:
            end, start = months[0], months[1]
        m = portfolio.migration(start, end)
        report.meta = [("期初", f"{start:%Y-%m-%d} 月末"), ("期末", f"{end:%Y-%m-%d} 月末"),
                       ("口径", "期初在贷贷款按期初分类(行)与期末分类或结清、核销(列)交叉统计;新发放另列。")]
        heads = ["期初分类 \\ 期末"] + [MIGRATION_LABELS[c] for c in MIGRATION_COLUMNS] + ["合计"]
        start_as_of = AsOf(start)

        def link(cls, col):
            return self.drill(start_as_of, five_class=cls, moved_to=f"{end.isoformat()}:{col}")

        counts, balances = [], []
        for cls, name in FIVE_CLASSES.items():
            counts.append([Cell(name)] + [Cell(m.cell(cls, col).count, "int", link(cls, col)) for col in MIGRATION_COLUMNS]
                          + [Cell(m.row_total(cls).count, "int", self.drill(start_as_of, five_class=cls))])
            balances.append([Cell(name)] + [Cell(m.cell(cls, col).start_balance, "money", link(cls, col))
                                            for col in MIGRATION_COLUMNS]
                            + [Cell(m.row_total(cls).start_balance, "money", self.drill(start_as_of, five_class=cls))])
        end_as_of = AsOf(end)
        new_link = lambda cls=None: self.drill(end_as_of, five_class=cls, new_since=start.isoformat())
        counts.append([Cell("期间新发放")] + [Cell(m.new[c].count if c in m.new else 0, "int", new_link(c))
                                          for c in FIVE_CLASSES] + [Cell(None), Cell(None)]
                      + [Cell(sum(v.count for v in m.new.values()), "int", new_link())])
        balances.append([Cell("期间新发放(期末余额)")] + [Cell(m.new[c].end_balance if c in m.new else Decimal("0.00"),
                                                          "money", new_link(c)) for c in FIVE_CLASSES]
                        + [Cell(None), Cell(None)]
                        + [Cell(sum((v.end_balance for v in m.new.values()), Decimal("0.00")), "money", new_link())])
        period = f"{start:%Y-%m-%d} → {end:%Y-%m-%d}"
        report.tables += [
            Table("migration-counts", f"迁徙矩阵·笔数({period})", heads, counts),
            Table("migration-balances", f"迁徙矩阵·期初余额(元)({period})", heads, balances,
                  note="结清、核销列为期间结清或核销的贷款在期初的余额;新发放行为期末余额。"),
            Table("migration-rates", f"迁徙率({period})",
                  ["指标", "期初余额(元)", "期间减少金额(元)", "向下迁徙金额(元)", "迁徙率"],
                  [[Cell(r.name), Cell(r.start_balance, "money"), Cell(r.decrease, "money"),
                    Cell(r.moved_down, "money"), Cell(r.rate, "pct", css="migration-rate")] for r in m.rates],
                  note=MIGRATION_NOTE)]
        trend = portfolio.migration_trend(months)
        names = [name for name, _s, _w in MIGRATION_RATES]
        report.tables.append(Table("migration-trend", "迁徙率趋势(最近12个月,逐月)", ["期间"] + names, [
            [Cell(f"{t.start:%Y-%m} → {t.end:%Y-%m}")] + [Cell(r.rate, "pct") for r in t.rates]
            for t in reversed(trend)]))
        page = lambda t: url_for(".index", start=t.start.isoformat(), end=t.end.isoformat())
        lines = [dict(name=name, colour=RATE_COLOURS[i], points=[
            dict(value=float(t.rates[i].rate) if t.rates[i].rate is not None else None,
                 tip=f"{t.start:%Y-%m}→{t.end:%Y-%m} {name}:"
                     f"{t.rates[i].rate if t.rates[i].rate is not None else '—'}%", url=page(t))
            for t in trend]) for i, name in enumerate(names[:4])]
        options = month_options(months)
        context.update(selectors=[Selector("start", "期初月末", options, start.isoformat()),
                                  Selector("end", "期末月末", options, end.isoformat())],
                       lines=lines, xs=[f"{t.end:%y-%m}" for t in trend])
        return report, context


# ---- 逾期账龄 -------------------------------------------------------------------------------
class AgeingView(ReportView):
    template = "analytics/ageing.html"
    title = "逾期账龄"

    def build(self):
        months = portfolio.snapshot_months()
        as_of = portfolio.parse_as_of(request.args.get("as_of"), months)
        total, products = portfolio.ageing(as_of)
        report = Report(self.title, [("统计时点", as_of.label), ("口径", SCOPE_NOTE + "逾期天数按最早未还清的一期计算。")])
        names = [label for _c, label, _lo, _hi in AGEING_BUCKETS]

        def row(r: portfolio.AgeingRow, index: int, kind: str, product=None):
            return [Cell(r.label)] + [
                Cell(r.buckets.get(code, (0, Decimal("0.00")))[index], kind,
                     self.drill(as_of, bucket=code, product=product)) for code, *_ in AGEING_BUCKETS] + [
                Cell(r.count if index == 0 else r.balance, kind, self.drill(as_of, product=product)),
                Cell(r.overdue_ratio, "pct"), Cell(r.over90_ratio, "pct")]

        heads = ["贷款产品"] + names + ["合计", "逾期率", "逾期90天以上占比"]
        report.tables += [
            Table("ageing-balance", f"逾期账龄·余额(元)({as_of.label})", heads,
                  [row(p, 1, "money", p.key) for p in products], [row(total, 1, "money")],
                  note="逾期率 = 逾期贷款(M1 及以上)余额 ÷ 贷款余额;逾期90天以上占比 = M4 及以上余额 ÷ 贷款余额。"),
            Table("ageing-count", f"逾期账龄·笔数({as_of.label})", heads[:-2],
                  [row(p, 0, "int", p.key)[:-2] for p in products], [row(total, 0, "int")[:-2]])]
        trend = portfolio.ageing_trend(months)
        report.tables.append(Table("ageing-trend", "逾期率趋势(最近12个月末)",
                                   ["月末", "贷款余额(元)"] + names + ["逾期率", "逾期90天以上占比"], [
            [Cell(f"{d:%Y-%m-%d}"), Cell(r.balance, "money", self.drill(AsOf(d)))]
            + [Cell(r.buckets.get(code, (0, Decimal("0.00")))[1], "money", self.drill(AsOf(d), bucket=code))
               for code, *_ in AGEING_BUCKETS] + [Cell(r.overdue_ratio, "pct"), Cell(r.over90_ratio, "pct")]
            for d, r in reversed(trend)]))
        bars = [dict(label=label.split("(")[0], value=float(total.buckets.get(code, (0, 0))[1]),
                     display=f"{money_text(total.buckets.get(code, (0, Decimal(0)))[1])} 元", colour=BUCKET_COLOURS[code],
                     url=self.drill(as_of, bucket=code),
                     tip=f"{label}:{count_text(total.buckets.get(code, (0, 0))[0])} 笔,"
                         f"余额 {money_text(total.buckets.get(code, (0, Decimal(0)))[1])} 元")
                for code, label, _lo, _hi in AGEING_BUCKETS]
        lines = [dict(name=name, colour=colour, points=[
            dict(value=float(getattr(r, attr)) if getattr(r, attr) is not None else None,
                 tip=f"{d:%Y-%m-%d} {name}:{getattr(r, attr)}%", url=self.drill(AsOf(d), **filt))
            for d, r in trend]) for name, attr, colour, filt in (
                ("逾期率", "overdue_ratio", "#f08c00", {}),
                ("逾期90天以上占比", "over90_ratio", "#c92a2a", {}))]
        return report, dict(selectors=[Selector("as_of", "统计时点", month_options(months, today=True), as_of.arg)],
                            has_data=bool(months) or as_of.month_end is None, bars=bars, lines=lines,
                            xs=[f"{d:%y-%m}" for d, _r in trend])


# ---- 放款批次分析 ---------------------------------------------------------------------------
class VintageView(ReportView):
    template = "analytics/vintage.html"
    title = "放款批次分析"

    def build(self):
        months = portfolio.snapshot_months()
        cohorts, max_mob = portfolio.vintage(months)
        newest = max(months) if months else None
        report = Report(self.title, [("截至", f"{newest:%Y-%m-%d} 月末" if newest else "—"),
                                     ("批次", "最近24个放款月份"), ("口径", VINTAGE_NOTE)])
        mobs = list(range(0, max_mob + 1))

        def month_end_of(cohort: str, mob: int) -> date:
            y, m = divmod(int(cohort[:4]) * 12 + int(cohort[5:7]) - 1 + mob, 12)
            return last_month_ends(date(y, m + 1, 28), 1)[0]

        for threshold in portfolio.EVER_THRESHOLDS:
            rows = [[Cell(c.month), Cell(c.count, "int"), Cell(c.principal, "money")]
                    + [Cell(c.share(threshold, k), "pct",
                            self.drill(AsOf(month_end_of(c.month, k)), start_month=c.month, ever=threshold)
                            if c.share(threshold, k) else None) for k in mobs]
                    for c in cohorts]
            report.tables.append(Table(f"vintage-{threshold}", f"曾逾期{threshold}天以上本金占比(按放款月份)",
                                       ["放款月份", "笔数", "放款本金(元)"] + [f"MOB{k}" for k in mobs], rows))
        # The newest cohorts with at least four months on book held (younger ones read 0%).
        recent = [c for c in cohorts if sum((30, k) in c.ever for k in mobs) >= 4][:6]
        palette = ("#1c7ed6", "#2f9e44", "#d4a900", "#f08c00", "#e8590c", "#c92a2a")
        lines = [dict(name=c.month, colour=palette[i], points=[
            dict(value=float(c.share(30, k)) if c.share(30, k) is not None else None,
                 tip=f"{c.month} 批次 MOB{k}:曾逾期30天以上 {c.share(30, k)}%",
                 url=self.drill(AsOf(month_end_of(c.month, k)), start_month=c.month, ever=30))
            for k in mobs]) for i, c in enumerate(recent)]
        return report, dict(selectors=[], has_data=bool(months), lines=lines, xs=[f"{k}" for k in mobs])


# ---- 核销与收回 -----------------------------------------------------------------------------
class WriteOffRecoveryView(ReportView):
    template = "analytics/writeoffs.html"
    title = "核销与收回"

    def build(self):
        rows = portfolio.writeoffs_and_recoveries(snapshots.today())
        report = Report(self.title, [("截至", f"{snapshots.today():%Y-%m-%d}"), ("期间", "最近12个自然月"),
                                     ("口径", "核销:终审通过、贷款已核销,按核销日期所在月;收回:核销后在该贷款上收到的还款"
                                            "(账销案存,核销后收回),按收款日期所在月。")])
        ledger = url_for("loans.index_view", q_status="written_off") if allowed(current_user, "loans") else None
        body = [[Cell(r.month), Cell(r.written_off_count, "int", ledger), Cell(r.written_off_principal, "money"),
                 Cell(r.written_off_interest, "money"), Cell(r.written_off_principal + r.written_off_interest, "money"),
                 Cell(r.recovered_count, "int", ledger), Cell(r.recovered, "money"), Cell(r.recovery_ratio, "pct")]
                for r in rows]
        total_p = sum((r.written_off_principal for r in rows), Decimal("0.00"))
        total_i = sum((r.written_off_interest for r in rows), Decimal("0.00"))
        total_r = sum((r.recovered for r in rows), Decimal("0.00"))
        foot = [[Cell("合计"), Cell(sum(r.written_off_count for r in rows), "int"), Cell(total_p, "money"),
                 Cell(total_i, "money"), Cell(total_p + total_i, "money"), Cell(sum(r.recovered_count for r in rows), "int"),
                 Cell(total_r, "money"), Cell(portfolio.ratio_percent(total_r, total_p + total_i), "pct")]]
        report.tables.append(Table("writeoff-months", "核销与收回(按月)",
                                   ["月份", "核销笔数", "核销本金(元)", "核销利息(元)", "核销合计(元)", "收回贷款笔数",
                                    "收回金额(元)", "当月收回 ÷ 当月核销"], body, foot))
        chrono = list(reversed(rows))
        lines = [dict(name=name, colour=colour, points=[
            dict(value=float(get(r)), tip=f"{r.month} {name}:{money_text(get(r))} 元", url=ledger) for r in chrono])
            for name, colour, get in (("核销金额", "#c92a2a", lambda r: r.written_off_principal + r.written_off_interest),
                                      ("收回金额", "#2f9e44", lambda r: r.recovered))]
        return report, dict(selectors=[], has_data=True, lines=lines, xs=[r.month[2:] for r in chrono])


def register(admin) -> None:
    """The reports of 五级分类, after 五级分类管理 (views.classification calls this)."""
    from admin_app.extensions import db
    from models import Loan, PortfolioSnapshot
    from views.analytics_loans import PortfolioLoansView, SnapshotLoansView

    for view, name, endpoint in ((ClassStatsView, "五级分类统计", "classification_stats"),
                                 (MigrationView, "五级分类迁徙", "classification_migration"),
                                 (AgeingView, "逾期账龄", "overdue_ageing"),
                                 (VintageView, "放款批次分析", "vintage")):
        admin.add_view(view(name=name, category="五级分类", endpoint=endpoint))
    admin.add_view(SnapshotLoansView(PortfolioSnapshot, db, name="月末快照明细", category="五级分类",
                                     endpoint="snapshot_loans"))
    admin.add_view(PortfolioLoansView(Loan, db, name="分析明细", category="五级分类",
                                      endpoint="portfolio_loans"))


def register_writeoffs(admin) -> None:
    admin.add_view(WriteOffRecoveryView(name="核销与收回", category="核销管理", endpoint="writeoff_recovery"))
