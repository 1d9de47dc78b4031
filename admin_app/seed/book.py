"""Seed step `book`: loan products, customers with bank cards and credit lines, and loans in
every state with their schedules, repayments, guarantors, collateral, rate changes and
extensions, all relative to the as-of date and deterministic for a seed.

Speed: rows are generated as plain tuples and written in large batches on the session's
connection (`BulkSink`: executemany on SQLite, COPY on PostgreSQL), never as ORM objects, so
the audit hook does not fire per row. Ids are assigned here, so children need no round trip.
Principals, rates and terms come from finite sets and each schedule is computed once per
(principal, rate, term, method) with `models.money.build_schedule`; a loan only shifts dates.

The step refuses a database that already holds customers, loans or products: demo data is
only ever written into an empty book (it never wipes anything)."""
import random
import sqlite3
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import click
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.seed import book_names as names
from admin_app.seed.book_sink import BulkSink
from models import (BankCard, Collateral, CreditLine, Customer, Extension, Guarantor, Loan,
                    LoanProduct, RateChange, User)
from models.classification import minimum_class, thresholds
from models.money import build_schedule, penalty_for
from services.ledger_backfill import backfill_entries
from services.portfolio_summary import rebuild as rebuild_summary

CENT = Decimal("0.01")
ZERO = "0.00"
PENALTY_MARKUP = Decimal("50")
GRACE_DAYS = 3


class SeedRefused(click.ClickException):
    """Raised (and shown by the CLI as an error) when the book is not empty."""


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    method: str
    min_rate: Decimal
    max_rate: Decimal
    default_rate: Decimal
    terms: dict  # term in months -> weight
    principals: tuple
    interval: int  # days between post-loan inspections
    kinds: tuple  # customer kinds the product is sold to
    collateral: str | None  # "property" / "vehicle": every loan is secured so

    @property
    def rates(self) -> tuple[Decimal, ...]:
        step = ((self.max_rate - self.min_rate) / 12).quantize(CENT, ROUND_HALF_UP)
        values = {(self.min_rate + step * k).quantize(CENT) for k in range(12)}
        return tuple(sorted(values | {self.max_rate, self.default_rate}))


D = Decimal
PRODUCTS = (
    ProductSpec("GRJY", "个人经营贷", "equal_installment", D("7.20"), D("18.00"), D("10.80"),
                {6: 2, 12: 6, 24: 2}, (50000, 80000, 100000, 120000, 150000, 200000, 300000, 500000),
                90, ("person",), None),
    ProductSpec("XWLD", "小微企业流动资金贷", "interest_first", D("6.00"), D("15.00"), D("8.40"),
                {6: 3, 12: 5, 24: 2}, (300000, 500000, 800000, 1000000, 1500000, 2000000, 3000000),
                60, ("company",), None),
    ProductSpec("CLDY", "车辆抵押贷", "equal_principal", D("8.00"), D("16.00"), D("11.50"),
                {12: 5, 24: 4, 36: 1}, (50000, 80000, 100000, 150000, 200000, 300000),
                90, ("person",), "vehicle"),
    ProductSpec("XFD", "个人消费贷", "equal_installment", D("9.00"), D("24.00"), D("14.40"),
                {6: 4, 12: 5, 24: 1}, (10000, 20000, 30000, 50000, 80000, 100000, 200000),
                180, ("person",), None),
    ProductSpec("DQZZ", "短期周转贷", "bullet", D("6.50"), D("12.00"), D("9.00"),
                {3: 3, 6: 4, 12: 3}, (100000, 200000, 300000, 500000, 1000000),
                30, ("person", "company"), None),
    ProductSpec("FCDY", "房产抵押经营贷", "equal_principal", D("5.00"), D("12.00"), D("7.20"),
                {12: 4, 24: 4, 36: 2}, (500000, 800000, 1000000, 1500000, 2000000, 3000000, 5000000),
                120, ("person", "company"), "property"),
)
PERSON_PRODUCT_WEIGHTS = {0: 35, 2: 20, 3: 25, 4: 8, 5: 12}
COMPANY_PRODUCT_WEIGHTS = {1: 50, 4: 25, 5: 25}

STATE_WEIGHTS = (("active", 53), ("overdue", 22), ("settled", 18), ("extended", 7))
# Overdue aging buckets (days, inclusive) so every five-level class appears.
OVERDUE_BUCKETS = (((1, 30), 35), ((31, 90), 25), ((91, 180), 15), ((181, 360), 13), ((361, 900), 12))

# The first loans of every book cover every state, class, method and warning kind, so even a
# ten-loan demo shows rows on every screen. Keys: product index, state, days overdue,
# rate change, extra collateral, guarantor kind, inspection.
FORCED = (
    dict(product=0, state="active", collateral="pledge_expired", guarantor="person", inspection="past"),
    dict(product=1, state="overdue", days=15, guarantor="company", rate_change=True),
    dict(product=2, state="extended", collateral="mortgage_soon"),
    dict(product=3, state="settled"),
    dict(product=4, state="overdue", days=60),
    dict(product=5, state="overdue", days=130, collateral="mortgage_expired"),
    dict(state="overdue", days=220),
    dict(state="overdue", days=310),
    dict(state="overdue", days=520),
    dict(state="active", rate_change=True, collateral="pledge_soon", inspection="soon"),
    dict(state="extended"),
    dict(state="settled"),
)
FORCED_CUSTOMER_KINDS = ("person", "company", "person", "person", "company", "person")

RATE_CHANGE_REASONS = (
    "LPR 下调,按合同约定重新定价", "客户经营困难,申请下调利率,经审批同意",
    "LPR 上调,按合同约定重新定价", "客户信用状况改善,按优惠利率执行",
)
EXTENSION_REASONS = (
    "受行业回款周期影响,经营性现金流暂时紧张,申请展期",
    "订单延期交付,回款推迟,申请展期 {m} 个月",
    "季节性经营周转需要,经审批同意展期",
    "抵押物处置周期较长,经协商展期",
)
CARD_NOTES = (None, None, "工资卡", "经营收款账户", None)
VEHICLES = ("大众 帕萨特", "丰田 凯美瑞", "本田 雅阁", "比亚迪 汉", "别克 GL8", "日产 轩逸",
            "吉利 星越L", "长城 哈弗H6", "奥迪 A6L", "宝马 5系", "五菱 宏光", "福田 欧马可 轻卡")
PLEDGES = ("定期存单", "应收账款", "股权", "仓单", "知识产权(专利权)")


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _months_from(ref: date, d: date) -> int:
    return (d.year - ref.year) * 12 + d.month - ref.month


def _add_months(d: date, months: int) -> date:
    """Whole months from a date whose day is at most 28 (all seeded dates are), which is
    what models.money.add_months gives for such a date."""
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, d.day)


def _clip_day(d: date) -> date:
    return d if d.day <= 28 else d.replace(day=28)


def _pool(weights: dict) -> tuple:
    """A tuple in which each key appears `weight` times: a uniform pick is a weighted pick."""
    return tuple(key for key, weight in weights.items() for _ in range(weight))


DAYS = tuple(timedelta(days=d) for d in range(64))
# Stamps are stored as UTC (models.clock): 02:00 and 03:00 UTC read 10:00 and 11:00 in Shanghai.
T_REPAID = " 02:00:00.000000"
T_CHANGED = " 03:00:00.000000"


class _Plan:
    """One schedule's amounts (models.money.build_schedule), computed once per (principal,
    rate, term, method); a loan supplies the dates. Amounts are kept as Decimal and in the
    sink's wire form; `offsets` are the months from the start to each due date."""

    __slots__ = ("offsets", "p_dec", "i_dec", "p_w", "i_w", "t_w", "cum_p")

    def __init__(self, principal: Decimal, rate: Decimal, term: int, method: str, wire):
        ref = date(2001, 1, 1)
        rows = build_schedule(principal, rate, term, ref, method)
        if any(r.due_date.day != ref.day for r in rows):
            raise RuntimeError("build_schedule due dates are no longer monthly anniversaries")
        self.offsets = tuple(_months_from(ref, r.due_date) for r in rows)
        self.p_dec = tuple(r.principal for r in rows)
        self.i_dec = tuple(r.interest for r in rows)
        self.p_w = tuple(wire(v) for v in self.p_dec)
        self.i_w = tuple(wire(v) for v in self.i_dec)
        self.t_w = tuple(wire(p + i) for p, i in zip(self.p_dec, self.i_dec))
        cum, acc = [Decimal(0)], Decimal(0)
        for v in self.p_dec:
            acc += v
            cum.append(acc)
        self.cum_p = tuple(cum)


class _Book:
    def __init__(self, loans: int, seed: int, as_of: date, money, zero, limits):
        self.n_loans = loans
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.as_of = as_of
        self.money, self.zero = money, zero
        self.limits = limits
        self.plans: dict = {}
        self.months: dict = {}
        self.stats = {"status": {}, "five_class": {}}

    def ri(self, low: int, high: int) -> int:
        """randint, without its overhead."""
        return low + int(self.rnd() * (high - low + 1))

    # -- cached schedules and dates ------------------------------------------------------
    def plan(self, principal: Decimal, rate: Decimal, term: int, method: str) -> _Plan:
        key = (principal, rate, term, method)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _Plan(principal, rate, term, method, self.money)
        return plan

    def month_table(self, anchor: date, upto: int) -> tuple[list, list]:
        """(dates, iso strings) of `anchor` plus 0, 1, 2... months, at least `upto`."""
        table = self.months.get(anchor)
        if table is None:
            table = self.months[anchor] = ([], [])
        dates, isos = table
        while len(dates) <= upto:
            d = _add_months(anchor, len(dates))
            dates.append(d)
            isos.append(d.isoformat())
        return table

    def due(self, anchor: date, months: int) -> date:
        return self.month_table(anchor, months)[0][months]

    # -- the whole book --------------------------------------------------------------------
    def run(self, sink: BulkSink, ids: dict, officers: list[int]) -> None:
        self.sink, self.ids, self.officers = sink, ids, officers
        self.write_products()
        n_customers = max(len(FORCED_CUSTOMER_KINDS), min(self.n_loans, int(self.n_loans * 0.6)))
        self.write_customers(n_customers)
        self.write_loans()

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def write_products(self) -> None:
        m = self.money
        self.product_ids = []
        for spec in PRODUCTS:
            pid = self.next_id("loan_product")
            self.product_ids.append(pid)
            terms = sorted(spec.terms)
            self.sink.add("loan_product", (
                pid, spec.code, spec.name, spec.method, m(spec.min_rate), m(spec.max_rate),
                m(spec.default_rate), terms[0], terms[-1], m(PENALTY_MARKUP), GRACE_DAYS,
                spec.interval, True))
        self.product_rates = [spec.rates for spec in PRODUCTS]
        self.product_terms = [_pool(spec.terms) for spec in PRODUCTS]

    def write_customers(self, count: int) -> None:
        rng, rnd, add, as_of = self.rng, self.rnd, self.sink.add, self.as_of
        used_ids: set = set()
        used_names: set = set()
        officers = self.officers
        # Per customer only what its loans need: id, kind, name, officer, region.
        self.customers = []
        for i in range(count):
            cid = self.next_id("customer")
            if i < len(FORCED_CUSTOMER_KINDS):
                kind = FORCED_CUSTOMER_KINDS[i]
            else:
                kind = "person" if rnd() < 0.78 else "company"
            reg = names.region(rng)
            officer = officers[int(rnd() * len(officers))]
            if kind == "person":
                name = names.person_name(rng)
                id_number = names.resident_id(rng, reg[0], as_of, used_ids)
                contact = None
            else:
                name = names.company_name(rng, reg, used_names)
                id_number = names.uscc(rng, reg[0], used_ids)
                contact = names.person_name(rng)
            add("customer", (cid, kind, name, id_number, names.mobile(rng), contact,
                             names.address(rng, reg), officer))
            self.customers.append((cid, kind, name, officer, reg))
            self.write_cards(cid, name, reg)
            self.write_credit_line(i, cid, kind)
            self.sink.maybe_flush()

    def write_cards(self, cid: int, name: str, reg) -> None:
        rng, roll = self.rng, self.rnd()
        count = 1 if roll < 0.6 else 2 if roll < 0.9 else 3
        for n in range(count):
            bank, number = names.bank_card(rng)
            note = "约定还款账户" if n == 0 else rng.choice(CARD_NOTES)
            self.sink.add("bank_card", (self.next_id("bank_card"), cid, bank,
                                        names.branch(rng, reg), name, number, n == 0, note))

    def write_credit_line(self, index: int, cid: int, kind: str) -> None:
        rng, as_of, ri = self.rng, self.as_of, self.ri
        forced = (-40, 12, 400)
        if index < len(forced):
            expiry_in = forced[index]
        elif self.rnd() < 0.7:
            roll = self.rnd()
            expiry_in = (ri(-365, -1) if roll < 0.15 else ri(0, 30) if roll < 0.27 else ri(31, 1000))
        else:
            return
        expiry = as_of + timedelta(days=expiry_in)
        start = _add_months(_clip_day(expiry), -12 * rng.choice((1, 2, 3)))
        amounts = (200000, 300000, 500000, 1000000) if kind == "person" else (1000000, 2000000, 3000000, 5000000)
        self.sink.add("credit_line", (self.next_id("credit_line"), cid, self.money(Decimal(rng.choice(amounts))),
                                      start.isoformat(), expiry.isoformat()))

    def write_loans(self) -> None:
        rnd, ri = self.rnd, self.ri
        n_customers = len(self.customers)
        person_pool = _pool(PERSON_PRODUCT_WEIGHTS)
        company_pool = _pool(COMPANY_PRODUCT_WEIGHTS)
        state_pool = _pool(dict(STATE_WEIGHTS))
        bucket_pool = _pool(dict(OVERDUE_BUCKETS))
        for i in range(self.n_loans):
            customer = self.customers[i] if i < n_customers else self.customers[int(rnd() * n_customers)]
            forced = FORCED[i] if i < len(FORCED) else {}
            state = forced.get("state") or state_pool[int(rnd() * len(state_pool))]
            if "product" in forced:
                product = forced["product"]
            else:
                pool = person_pool if customer[1] == "person" else company_pool
                product = pool[int(rnd() * len(pool))]
                if state == "extended" and PRODUCTS[product].method == "bullet":
                    product = 0 if customer[1] == "person" else 1
            days = forced.get("days")
            if state == "overdue" and days is None:
                days = ri(*bucket_pool[int(rnd() * len(bucket_pool))])
            self.write_loan(customer, product, state, days, forced)
            self.sink.maybe_flush()

    # -- one loan --------------------------------------------------------------------------
    def write_loan(self, customer, pindex: int, state: str, days: int | None, forced: dict) -> None:
        rng, rnd, ri, as_of, sink = self.rng, self.rnd, self.ri, self.as_of, self.sink
        money, Z = self.money, self.zero
        spec = PRODUCTS[pindex]
        loan_id = self.next_id("loan")
        cid, _kind, cname, officer, reg = customer
        principal = Decimal(spec.principals[int(rnd() * len(spec.principals))])
        rates = self.product_rates[pindex]
        rate = rates[int(rnd() * len(rates))]
        terms = self.product_terms[pindex]
        base = self.plan(principal, rate, terms[int(rnd() * len(terms))], spec.method)
        n = len(base.offsets)
        last_off = base.offsets[-1]

        # Choose the start date (day <= 28) so the loan is in the wanted state on as_of.
        paid_upto = None  # overdue loans: the periods paid in full
        if state == "overdue":
            paid_upto = ri(0, n - 1) if not forced else min(n - 1, 1)
            target = _clip_day(as_of - timedelta(days=days))
            start = _add_months(target, -base.offsets[paid_upto])
        elif state == "settled":
            start = _clip_day(as_of - timedelta(days=last_off * 31 + ri(10, 900)))
        elif state == "extended":
            # Extended at an original due date near maturity, for 6 or 12 more months.
            k = n - ri(1, min(3, n - 1))
            ext = 6 if rnd() < 0.5 else 12
            ext_at = _clip_day(as_of - timedelta(days=ri(1, ext * 28)))
            start = _add_months(ext_at, -base.offsets[k - 1])
        else:
            start = _clip_day(as_of - timedelta(days=ri(1, max(1, last_off * 30 - 5))))
            while self.due(start, last_off) <= as_of:
                start = _clip_day(start + timedelta(days=20))

        # The schedule as segments (anchor date, plan, first, end, rate): the base schedule,
        # cut where an extension or a rate change re-amortised the rest.
        segments = [(start, base, 0, n, rate)]
        current_rate = rate
        rate_change = extension = None
        if state == "extended":
            new = self.plan(principal - base.cum_p[k], rate, n - k + ext, spec.method)
            segments = [(start, base, 0, k, rate), (ext_at, new, 0, len(new.offsets), rate)]
            extension = (ext_at, self.due(start, last_off), ext)
        elif state in ("active", "overdue") and n >= 3 and (
                forced.get("rate_change") or (not forced and rnd() < 0.08)):
            if state == "overdue":
                before = paid_upto
            else:
                before = sum(1 for off in base.offsets if self.due(start, off) < as_of)
            limit = min(before, n - 2)
            if limit >= 1:
                j = ri(1, limit)
                new_rate = rng.choice([r for r in rates if r != rate])
                eff = self.due(start, base.offsets[j - 1])
                new = self.plan(principal - base.cum_p[j], new_rate, n - j, spec.method)
                segments = [(start, base, 0, j, rate), (eff, new, 0, n - j, new_rate)]
                rate_change = (eff, rate, new_rate)
                current_rate = new_rate

        dues, isos, p_dec, i_dec, p_w, i_w, t_w, rates_at = [], [], [], [], [], [], [], []
        for anchor, plan, lo, hi, r in segments:
            offs = plan.offsets[lo:hi]
            table_d, table_s = self.month_table(anchor, offs[-1])
            dues += [table_d[o] for o in offs]
            isos += [table_s[o] for o in offs]
            p_dec += plan.p_dec[lo:hi]
            i_dec += plan.i_dec[lo:hi]
            p_w += plan.p_w[lo:hi]
            i_w += plan.i_w[lo:hi]
            t_w += plan.t_w[lo:hi]
            rates_at += [r] * (hi - lo)
        count = len(dues)
        if paid_upto is None:
            paid_upto = count if state == "settled" else bisect_left(dues, as_of)

        # Late charges as models.ledger has them (products: grace from_due, 复利 on): nothing
        # within the grace days; beyond them 罚息 on the principal and 复利 on the interest
        # from the due date, each day at the rate in force (the rate change, if any, takes
        # effect at its date). tests/test_seed.py replays every seeded loan and finds these.
        def charge(amount: Decimal, due: date, days: int) -> Decimal:
            if days <= GRACE_DAYS or not amount:
                return Decimal(0)
            if rate_change is None:
                return penalty_for(amount, current_rate, PENALTY_MARKUP, days, 0)
            eff, old, new_rate = rate_change
            before = min(max((eff - due).days, 0), days)
            # Σ rate over the days, rounded once (penalty_for is linear in rate × days)
            return penalty_for(amount, old * before + new_rate * (days - before), PENALTY_MARKUP, 1, 0)

        # Paid periods: on the due date (an early payment is applied on its due date: paid
        # before it, it would prepay principal) or late (with 罚息 and 复利 beyond the grace
        # days); one repayment each, allocated 罚息 -> 复利 -> interest -> principal.
        inst, reps = [], []
        inst_add, rep_add = inst.append, reps.append
        paid_s = None
        for idx in range(paid_upto):
            due_s = isos[idx]
            roll = rnd()
            if roll < 0.92:
                paid_s = due_s
                inst_add((loan_id, idx + 1, due_s, p_w[idx], i_w[idx], p_w[idx], i_w[idx], Z, Z, None, due_s, Z))
                rep_add((loan_id, due_s, t_w[idx], Z, i_w[idx], p_w[idx], officer, due_s + T_REPAID, Z))
                continue
            due = dues[idx]
            late = 1 + int((roll - 0.92) * 312)
            paid = due + DAYS[late]
            if paid >= as_of:
                paid, late = due, 0
            paid_s = paid.isoformat()
            pen, comp = charge(p_dec[idx], due, late), charge(i_dec[idx], due, late)
            if pen or comp:
                pen_w, comp_w = money(pen), money(comp)
                inst_add((loan_id, idx + 1, due_s, p_w[idx], i_w[idx], p_w[idx], i_w[idx], pen_w, pen_w,
                          paid_s, paid_s, comp_w))
                rep_add((loan_id, paid_s, money(p_dec[idx] + i_dec[idx] + _q(pen) + _q(comp)),
                         money(_q(pen) + _q(comp)), i_w[idx], p_w[idx], officer, paid_s + T_REPAID, comp_w))
            else:
                inst_add((loan_id, idx + 1, due_s, p_w[idx], i_w[idx], p_w[idx], i_w[idx], Z, Z, None, paid_s, Z))
                rep_add((loan_id, paid_s, t_w[idx], Z, i_w[idx], p_w[idx], officer, paid_s + T_REPAID, Z))
        repaid = sum(p_dec[:paid_upto], Decimal(0))

        # Overdue periods (due before as_of, unpaid); the first may carry a partial payment
        # made on its due date (interest first, then principal).
        overdue_p = overdue_i = penalty = compound = Decimal(0)
        idx = paid_upto
        if state == "overdue":
            while idx < count and dues[idx] < as_of:
                p, i, due_s = p_dec[idx], i_dec[idx], isos[idx]
                p_paid = i_paid = Decimal(0)
                if idx == paid_upto and rnd() < 0.3:
                    amount = _q((p + i) * ri(10, 80) / 100)
                    if amount > 0:
                        i_paid = min(i, amount)
                        p_paid = amount - i_paid
                        rep_add((loan_id, due_s, money(amount), Z, money(i_paid), money(p_paid),
                                 officer, due_s + T_REPAID, Z))
                        repaid += p_paid
                inst_add((loan_id, idx + 1, due_s, p_w[idx], i_w[idx], money(p_paid), money(i_paid), Z, Z,
                          None, None, Z))
                overdue_p += p - p_paid
                overdue_i += i - i_paid
                penalty += _q(charge(p - p_paid, dues[idx], (as_of - dues[idx]).days))
                compound += _q(charge(i - i_paid, dues[idx], (as_of - dues[idx]).days))
                idx += 1
        inst += [(loan_id, x + 1, isos[x], p_w[x], i_w[x], Z, Z, Z, Z, None, None, Z) for x in range(idx, count)]

        maturity = dues[-1]
        days_overdue = (as_of - dues[paid_upto]).days if state == "overdue" else 0
        suggested = minimum_class(days_overdue, self.limits)
        five = suggested
        if state == "settled":
            five = suggested = 1
        elif not forced:
            roll = rnd()
            if state == "extended" and roll < 0.5:
                five = 2
            elif state == "active" and roll < 0.03:
                five = 2
            elif state == "overdue" and roll < 0.05:
                five = min(5, suggested + 1)

        # Post-loan inspections: most open loans were inspected; some are due or past due.
        last_insp = next_insp = None
        if state != "settled":
            mode = forced.get("inspection")
            if mode == "past":
                last = max(start, as_of - timedelta(days=spec.interval + 20))
            elif mode == "soon":
                last = max(start, as_of - timedelta(days=spec.interval - 3))
            elif rnd() < 0.65:
                last = as_of - timedelta(days=ri(0, spec.interval + 45))
            else:
                last = None
            if last is not None and last > start:
                last_insp = last.isoformat()
                next_insp = (last + timedelta(days=spec.interval)).isoformat()
            else:
                next_insp = (start + timedelta(days=spec.interval)).isoformat()

        start_s = start.isoformat()
        sink.add("loan", (
            loan_id, f"DK{start_s.replace('-', '')}{loan_id:07d}", f"HT-{spec.code}-{start.year}-{loan_id:07d}",
            cid, cname, self.product_ids[pindex], money(principal), money(current_rate),
            _months_from(start, maturity), start_s, maturity.isoformat(), spec.method, officer, state,
            five, suggested, money(principal - repaid), days_overdue, money(overdue_p), money(overdue_i),
            money(penalty), last_insp, next_insp, paid_s if state == "settled" else None, None,
            start_s + " 09:30:00.000000", 1, money(compound)))
        sink.extend("installment", inst)
        sink.extend("repayment", reps)
        if rate_change:
            eff, old, new_rate = rate_change
            eff_s = eff.isoformat()
            sink.add("rate_change", (self.next_id("rate_change"), loan_id, money(old), money(new_rate),
                                     eff_s, rng.choice(RATE_CHANGE_REASONS), officer,
                                     eff_s + T_CHANGED))
        if extension:
            ext_at, old_maturity, months = extension
            sink.add("extension", (self.next_id("extension"), loan_id, old_maturity.isoformat(),
                                   maturity.isoformat(), rng.choice(EXTENSION_REASONS).format(m=months),
                                   officer, ext_at.isoformat() + T_CHANGED))
        if forced.get("guarantor") or (not forced and rnd() < 0.4):
            self.write_guarantors(loan_id, principal, forced.get("guarantor"))
        if spec.collateral or forced.get("collateral") or (not forced and rnd() < 0.12):
            self.write_collateral(loan_id, spec, principal, start, maturity, state, reg, forced)
        status_counts, class_counts = self.stats["status"], self.stats["five_class"]
        status_counts[state] = status_counts.get(state, 0) + 1
        class_counts[five] = class_counts.get(five, 0) + 1

    def write_guarantors(self, loan_id: int, principal: Decimal, kind: str | None) -> None:
        rng, rnd = self.rng, self.rnd
        if kind:
            kinds = [kind]
        else:
            kinds = ["person" if rnd() < 0.7 else "company" for _ in range(1 if rnd() < 0.75 else 2)]
        for kind in kinds:
            reg = names.region(rng)
            if kind == "person":
                name, id_number = names.person_name(rng), names.resident_id(rng, reg[0], self.as_of)
            else:
                name, id_number = names.company_name(rng, reg), names.uscc(rng, reg[0])
            share = rng.choice((100, 100, 100, 80, 60, 50))
            self.sink.add("guarantor", (self.next_id("guarantor"), loan_id, kind, name, id_number,
                                        names.mobile(rng), self.money(_q(principal * share / 100))))

    def write_collateral(self, loan_id, spec, principal, start, maturity, state, reg, forced) -> None:
        rng, rnd, ri, as_of = self.rng, self.rnd, self.ri, self.as_of
        items = []
        if spec.collateral:
            items.append(("mortgage", spec.collateral))
        extra = forced.get("collateral")
        if extra:
            kind = extra.split("_")[0]
            if not items or items[0][0] != kind:
                items.append((kind, "equipment" if kind == "mortgage" else rng.choice(PLEDGES)))
        elif not items:
            items.append(("pledge", rng.choice(PLEDGES)) if rnd() < 0.65 else ("mortgage", "equipment"))
        timing = extra.split("_")[1] if extra else None
        for kind, what in items:
            description, value, reg_no = self._collateral_text(kind, what, principal, start, reg)
            if state == "settled":
                expiry = maturity + timedelta(days=ri(30, 365))
            else:
                roll = rnd() if timing is None else 1.0
                if timing == "expired" or roll < 0.1:
                    expiry = as_of - timedelta(days=ri(1, 180))
                elif timing == "soon" or roll < 0.2:
                    expiry = as_of + timedelta(days=ri(0, 30))
                else:
                    expiry = max(maturity, as_of) + timedelta(days=ri(31, 365))
            # Registered with the loan; an asset whose registration lapsed early was registered
            # (for an earlier facility) at least a year before it expired.
            registered = min(start, expiry - timedelta(days=365))
            self.sink.add("collateral", (self.next_id("collateral"), loan_id, kind, description,
                                         self.money(value), reg_no, registered.isoformat(),
                                         expiry.isoformat()))

    def _collateral_text(self, kind, what, principal, start, reg):
        rng, ri = self.rng, self.ri
        short, city, district = reg[2], reg[3], reg[4]
        if what == "property":
            use = rng.choice(("住宅", "住宅", "商铺", "办公"))
            description = (f"{city}{district}{rng.choice(reg[5])}{ri(1, 500)}号"
                           f"{ri(1, 30)}幢{ri(1, 30)}{ri(1, 4):02d}室 {use} {ri(60, 260)}平方米")
            value = Decimal(int(principal * ri(150, 250) / 100 / 10000) * 10000)
            reg_no = f"{short}({start.year}){city.removesuffix('市')}市不动产证明第{ri(0, 9999999):07d}号"
        elif what == "vehicle":
            plate = f"{short}{rng.choice('ABCDEFG')}·{rng.choice('DF')}{ri(0, 99999):05d}"
            description = f"{rng.choice(VEHICLES)} 车牌 {plate}"
            value = Decimal(int(principal * ri(120, 180) / 100 / 1000) * 1000)
            reg_no = f"机动车抵押登记 {plate} {start:%Y%m%d}{ri(0, 9999):04d}"
        elif what == "equipment":
            description = rng.choice(("数控机床 3 台", "注塑机 5 台", "冷链运输车 2 辆", "生产线设备一套"))
            value = Decimal(int(principal * ri(110, 160) / 100 / 1000) * 1000)
            reg_no = f"动产抵押登记 {start:%Y}{ri(0, 99999999):08d}"
        else:
            if what == "定期存单":
                description = f"{rng.choice(names.BANKS)[0]}定期存单"
            elif what == "应收账款":
                description = f"对{names.company_name(rng, reg)}的应收账款"
            elif what == "股权":
                description = f"{names.company_name(rng, reg)} {rng.choice((20, 30, 51))}% 股权"
            elif what == "仓单":
                description = f"{rng.choice(('钢材', '电解铜', '大豆', '白糖'))}标准仓单"
            else:
                description = f"发明专利 ZL{start.year - ri(1, 8)}1{ri(0, 9999999):07d}.X"
            value = Decimal(int(principal * ri(105, 150) / 100 / 1000) * 1000)
            reg_no = f"动产融资统一登记 {start:%Y%m%d}{ri(0, 99999999):08d}"
        return description, max(value, Decimal(1000)), reg_no


TABLES = {
    "loan_product": ("id", "code", "name", "repayment_method", "min_rate", "max_rate",
                     "default_rate", "min_term", "max_term", "penalty_markup", "grace_days",
                     "inspection_interval_days", "active"),
    "customer": ("id", "kind", "name", "id_number", "phone", "contact_person", "address",
                 "officer_id"),
    "bank_card": ("id", "customer_id", "bank_name", "branch", "account_name", "card_number",
                  "is_default", "note"),
    "credit_line": ("id", "customer_id", "amount", "start_date", "expiry_date"),
    "loan": ("id", "loan_no", "contract_no", "customer_id", "customer_name", "product_id",
             "principal", "rate", "term_months", "start_date", "maturity_date",
             "repayment_method", "officer_id", "status", "five_class", "suggested_class",
             "outstanding_principal", "days_overdue", "overdue_principal", "overdue_interest",
             "penalty_interest", "last_inspection_date", "next_inspection_date", "settled_date",
             "written_off_date", "created_at", "version", "compound_interest"),
    "installment": ("loan_id", "period", "due_date", "principal_due", "interest_due",
                    "principal_paid", "interest_paid", "penalty_paid", "penalty_accrued",
                    "penalty_accrued_to", "paid_off_date", "compound_paid"),
    "repayment": ("loan_id", "paid_on", "amount", "penalty_part", "interest_part",
                  "principal_part", "operator_id", "created_at", "compound_part"),
    "guarantor": ("id", "loan_id", "kind", "name", "id_number", "phone", "guaranteed_amount"),
    "collateral": ("id", "loan_id", "kind", "description", "value", "registration_no",
                   "start_date", "expiry_date"),
    "rate_change": ("id", "loan_id", "old_rate", "new_rate", "effective_date", "reason",
                    "operator_id", "created_at"),
    "extension": ("id", "loan_id", "old_maturity_date", "new_maturity_date", "reason",
                  "operator_id", "created_at"),
}
ID_MODELS = {"loan_product": LoanProduct, "customer": Customer, "bank_card": BankCard,
             "credit_line": CreditLine, "loan": Loan, "guarantor": Guarantor,
             "collateral": Collateral, "rate_change": RateChange, "extension": Extension}


def run(loans: int, seed: int, as_of: date) -> dict:
    """Write the demo book into an empty database (refuses otherwise); returns a summary."""
    if loans < 1:
        raise SeedRefused("贷款笔数必须大于 0")
    session = db.session
    for model, label in ((Loan, "贷款"), (Customer, "客户"), (LoanProduct, "贷款产品")):
        if session.execute(select(model.id).limit(1)).first() is not None:
            raise SeedRefused(f"数据库中已有{label}数据,演示数据只能写入空库(不会覆盖或清空现有数据)。"
                              "请换用新的数据库文件或 DATABASE_URL 后再运行 seed-demo。")
    officers = [session.execute(select(User.id).where(User.username == u)).scalar()
                for u in ("officer", "officer2")]
    officers = [o for o in officers if o is not None]
    if not officers:
        raise SeedRefused("找不到演示客户经理账户 officer / officer2,请先创建演示账户。")

    started = time.perf_counter()
    connection = session.connection()
    ids = {name: (session.execute(select(func.max(model.id))).scalar() or 0) + 1
           for name, model in ID_MODELS.items()}
    ids_from = ids["loan"] - 1
    limits = thresholds()
    restore = _tune_sqlite(connection)
    deferred = _drop_secondary_indexes(connection)
    # From here until sink.close() only the sink's writer thread uses the connection.
    sink = BulkSink(connection, TABLES)
    try:
        book = _Book(loans, seed, as_of, sink.money, sink.zero, limits)
        book.run(sink, ids, officers)
        sink.close()
        _create_indexes(connection, deferred)
        sink.fix_sequences(ID_MODELS)
        # The ledger entries of the new loans, from the rows just written (one rule with
        # the migration; tests/test_seed.py replays the book and finds the stored figures)
        backfill_entries(connection, loans_from=ids_from)
        # 首页's portfolio summary counts the rows just written (services.portfolio_summary)
        rebuild_summary(connection)
        session.commit()
    except BaseException:
        sink.abort()
        session.rollback()
        raise
    finally:
        restore()
    summary = {f"{name}_rows": count for name, count in sink.counts.items()}
    summary["loans_by_status"] = dict(sorted(book.stats["status"].items()))
    summary["loans_by_five_class"] = dict(sorted(book.stats["five_class"].items()))
    summary["book_seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _drop_secondary_indexes(connection) -> list:
    """Drop the non-unique indexes of the tables the book fills; `_create_indexes` builds
    them again once the rows are in. One sorted build per index is several times faster
    than keeping every index up to date row by row (1,000,000 loans: 12,000,000
    installments). Both happen in the seeding transaction: a failure restores them."""
    deferred = []
    for name in TABLES:
        for index in sorted(db.metadata.tables[name].indexes, key=lambda i: i.name):
            if not index.unique:
                index.drop(connection)
                deferred.append(index)
    return deferred


def _create_indexes(connection, indexes: list) -> None:
    for index in indexes:
        index.create(connection)


def _tune_sqlite(connection):
    """SQLite, while the book is written: a large page cache (index pages stay in memory)
    and, when no other connection has the file open, a rollback journal in memory instead
    of the WAL — the book goes once into the (empty) database file instead of first into
    the WAL and then again into the file. A failure still rolls back. Returns the function
    that restores both; call it after the commit (WAL mode cannot be entered mid-transaction)."""
    if connection.dialect.name != "sqlite":
        return lambda: None
    raw = connection.connection.driver_connection
    previous = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute("PRAGMA cache_size = -500000")
    mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    switched = not raw.in_transaction and _journal_mode(raw, "MEMORY")

    def restore():
        raw.execute(f"PRAGMA cache_size = {int(previous)}")
        if switched and not raw.in_transaction:
            # If another connection opened the file meanwhile this fails; every new
            # connection sets WAL again (admin_app.database), so the next one does.
            _journal_mode(raw, mode)
    return restore


def _journal_mode(raw, mode: str) -> bool:
    """Switch the journal mode without waiting: False when another connection has the
    database open (the mode then stays as it was)."""
    timeout = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        return raw.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0].lower() == mode.lower()
    except sqlite3.OperationalError:
        return False
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(timeout)}")
