"""An independent reference for the loan ledger rules (SPEC §4 Money, issue 12), written
apart from models.ledger and importing nothing of it: exact Fractions, and a loan walked
one calendar day at a time. Each day first takes that day's entries (in posting order),
then accrues: the running period records the balance and rate it bore that day, and every
period past due adds that day's unpaid principal × rate (罚息) and unpaid interest × rate
(复利) to its sums. A period's interest is worked out from its days when it falls due:
per anniversary month, balance × rate / 1200 if the month is whole and bore one balance and
one rate, else Σ balance × rate / 36000 per day.

预收款 (advance): money beyond what is due on a repayment's date, when the repayment is not
marked as a prepayment (mode None / "advance"), is kept aside; at the start of each day up
to the as-of date, before that day's entries, it pays the period falling due that day,
interest then principal. With the advance, the exact payoff settles the loan whatever the
mode; a prepayment (reduce / shorten) spends the advance too; a write-off spends it on the
claim first. Used by tests/test_ledger_properties.py."""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from fractions import Fraction as F

DAY = timedelta(days=1)


def cents(x) -> F:
    """Round half up to the cent (x >= 0 throughout)."""
    x = F(x) * 100
    whole = x.numerator // x.denominator
    if (x - whole) * 2 >= 1:
        whole += 1
    return F(whole, 100)


def month_add(d: date, k: int) -> date:
    m = d.month - 1 + k
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def annuity(balance: F, rate: F, n: int) -> F:
    i = rate / 1200
    if i == 0:
        return cents(balance / n)
    g = (1 + i) ** n
    return cents(balance * i * g / (g - 1))


class Ref:
    def __init__(self, principal, rate, start, term, method, markup=50, grace=0, grace_mode="from_due",
                 compound=True, settle="to_date", fee_pct=0):
        self.P, self.start, self.method = F(str(principal)), start, method
        self.markup, self.grace, self.grace_mode = F(str(markup)), int(grace), grace_mode
        self.compound, self.settle, self.fee_pct = compound, settle, F(str(fee_pct))
        self.rate_changes = []  # (date, seq, rate)
        self.base_rate = F(str(rate))
        dues = [month_add(start, k) for k in range(1, term + 1)]
        if method == "bullet":
            dues = dues[-1:]
        self.periods = []
        self.payment = self.share = None
        self.settled = self.written_off = None
        self.parts = {}
        self.advance = F(0)
        self._plan(start, self.P, dues, 0, self.base_rate, start, "reduce")

    # -- rates and months ------------------------------------------------------------------
    def rate(self, d: date) -> F:
        r = self.base_rate
        for day, _, value in sorted(self.rate_changes):
            if day <= d:
                r = value
        return r

    def is_anniv(self, d: date) -> bool:
        k = (d.year - self.start.year) * 12 + d.month - self.start.month
        return k >= 0 and month_add(self.start, k) == d

    def next_anniv(self, d: date) -> date:
        k = (d.year - self.start.year) * 12 + d.month - self.start.month
        while month_add(self.start, k) <= d:
            k += 1
        return month_add(self.start, k)

    # -- schedule --------------------------------------------------------------------------
    def _parts(self, balance, rate, n, payment=None, share=None):
        out, left = [], balance
        i = rate / 1200
        if self.method == "equal_installment" and payment is None:
            payment = annuity(balance, rate, n)
        if self.method == "equal_principal" and share is None:
            share = cents(balance / n)
        for k in range(n):
            if k == n - 1:
                part = left
            elif self.method == "equal_installment":
                part = min(max(payment - cents(left * i), F(0)), left)
            elif self.method == "equal_principal":
                part = min(share, left)
            else:
                part = F(0)
            out.append(part)
            left -= part
        return out

    def _plan(self, day, balance, dues, index, rate, prev, mode):
        if mode == "shorten" and self.method in ("equal_installment", "equal_principal"):
            n = len(dues)
            if self.method == "equal_installment":
                left, count, i = balance, n, rate / 1200
                for k in range(1, n + 1):
                    interest = cents(left * i)
                    if self.payment <= interest:
                        count = n
                        break
                    if self.payment - interest >= left:
                        count = k
                        break
                    left -= self.payment - interest
            else:
                count = -(-balance // self.share) if self.share > 0 else n
                count = max(1, min(int(count), n))
            dues = dues[:count]
            parts = self._parts(balance, rate, count, self.payment, self.share)
        else:
            parts = self._parts(balance, rate, len(dues))
            self.payment = annuity(balance, rate, len(dues)) if self.method == "equal_installment" else None
            self.share = cents(balance / len(dues))
        keep = self.periods[:index]
        cur = self.periods[index] if index < len(self.periods) else None
        new, left = [], balance
        for k, (due, part) in enumerate(zip(dues, parts)):
            if k == 0 and cur is not None:
                cur["due"], cur["principal"] = due, part
                cur["bal_from"].append((day, left))
                per = cur
            else:
                s = new[-1]["due"] if new else prev
                per = dict(start=s, due=due, principal=part, bal_from=[(s, left)], days=[], interest=None,
                           fixed_interest=None, pen=F(0), comp=F(0), paid=[F(0)] * 4, prepaid=F(0),
                           cleared=None, unpaid_hist=[])
            new.append(per)
            left -= part
        self.periods = keep + new

    def balance_on(self, per, d):
        b = None
        for since, value in per["bal_from"]:
            if since <= d:
                b = value
        return b

    def current(self, d):
        for k, per in enumerate(self.periods):
            if per["start"] <= d < per["due"]:
                return k
        return None

    def interest_over(self, per, a, b):
        """Interest of `per` for its recorded days in [a, b) (days recorded as (d, B, r))."""
        days = [x for x in per["days"] if a <= x[0] < b]
        total, months = F(0), {}
        for d, bal, r in days:
            # the anniversary month containing d
            k = (d.year - self.start.year) * 12 + d.month - self.start.month
            while month_add(self.start, k) > d:
                k -= 1
            months.setdefault(k, []).append((d, bal, r))
        for k, ds in months.items():
            m0, m1 = month_add(self.start, k), month_add(self.start, k + 1)
            full = len(ds) == (m1 - m0).days and ds[0][0] == m0
            if full and len({(x[1], x[2]) for x in ds}) == 1:
                total += ds[0][1] * ds[0][2] / 1200
            else:
                total += sum((x[1] * x[2] / 36000 for x in ds), F(0))
        return total

    def _fix(self, per):
        if per["interest"] is None:
            per["interest"] = (per["fixed_interest"] if per["fixed_interest"] is not None
                               else cents(self.interest_over(per, per["start"], per["due"])))
            if per["interest"] == 0 and per["principal"] == 0 and per["cleared"] is None:
                per["cleared"] = per["due"]

    def unpaid(self, per):
        return per["principal"] - per["paid"][3], per["interest"] - per["paid"][2]

    # -- penalty -----------------------------------------------------------------------------
    def penalties(self, per, on):
        if per["cleared"] is None and per["due"] >= on:
            return F(0), F(0)
        end = per["cleared"] if per["cleared"] is not None and per["cleared"] <= on else on
        if self.grace_mode == "from_due" and (end - per["due"]).days <= self.grace:
            return F(0), F(0)
        pen = sum((v for d, v, _ in per["unpaid_hist"] if d < on), F(0))
        comp = sum((v for d, _, v in per["unpaid_hist"] if d < on), F(0))
        f = (100 + self.markup) / 3600000
        return cents(pen * f), (cents(comp * f) if self.compound else F(0))

    # -- entries -------------------------------------------------------------------------------
    def pay(self, seq, d, amount, mode):
        amount = F(str(amount))
        # penalty, compound, interest, principal, fee, excess, advance (+ kept / - spent)
        parts = self.parts.setdefault(seq, [F(0)] * 7)
        if self.settled:
            parts[5] += amount
            return
        amount = self.settle_due(d, amount, parts)
        if amount > 0 and not self.written_off:
            amount = self.beyond(d, amount, mode, parts)
        if not self.settled and not self.written_off and all(p["cleared"] is not None for p in self.periods):
            self.settled = d
        parts[5] += amount

    def settle_due(self, d, amount, parts):
        """Pay periods due by `d`, oldest first, penalty → 复利 → interest → principal."""
        for per in self.periods:
            if per["due"] <= d:
                self._fix(per)
        for per in self.periods:
            if amount <= 0:
                break
            if per["due"] > d or per["cleared"] is not None:
                continue
            pen, comp = self.penalties(per, d)
            up, ui = self.unpaid(per)
            owed = [max(pen - per["paid"][0], F(0)), max(comp - per["paid"][1], F(0)), ui, up]
            took = False
            for j, o in enumerate(owed):
                t = min(amount, o)
                if t:
                    took = True
                per["paid"][j] += t
                parts[j] += t
                amount -= t
            if took:
                up, ui = self.unpaid(per)
                if up <= 0 and ui <= 0:
                    per["cleared"] = d
        return amount

    def use_advance(self, d):
        """Start of day `d`: the advance pays the periods falling due today."""
        if self.advance <= 0 or self.settled or self.written_off:
            return
        for per in self.periods:
            if per["due"] != d or per["cleared"] is not None:
                continue
            self._fix(per)
            if per["cleared"] is not None:
                continue
            up, ui = self.unpaid(per)
            to_interest = min(self.advance, ui)
            to_principal = min(self.advance - to_interest, up)
            per["paid"][2] += to_interest
            per["paid"][3] += to_principal
            self.advance -= to_interest + to_principal
            up, ui = self.unpaid(per)
            if up <= 0 and ui <= 0:
                per["cleared"] = d
        if all(p["cleared"] is not None for p in self.periods):
            self.settled = d

    def beyond(self, d, amount, mode, parts):
        k = self.current(d)
        if k is None:
            return amount
        per = self.periods[k]
        bal = self.balance_on(per, d)
        if self.settle == "period":
            accrued = cents(self.projected_interest(per))
        else:
            accrued = cents(self.interest_over(per, per["start"], d))
        payoff = accrued + bal + cents(bal * self.fee_pct / 100)
        total = amount + self.advance
        if total > payoff:
            return amount
        if total == payoff:
            per["fixed_interest"] = accrued
            per["due"], per["principal"] = d, bal
            self.periods = self.periods[:k + 1]
            self._fix(per)
            per["paid"][2], per["paid"][3] = accrued, bal
            per["cleared"] = d
            parts[2] += accrued
            parts[3] += bal
            parts[4] += payoff - accrued - bal
            parts[6] -= self.advance
            self.advance = F(0)
            self.settled = d
            return F(0)
        if mode not in ("reduce", "shorten"):
            parts[6] += amount
            self.advance += amount
            return F(0)
        prepaid = cents(total * 100 / (100 + self.fee_pct))
        if prepaid >= bal:
            return amount
        parts[3] += prepaid
        parts[4] += total - prepaid
        parts[6] -= self.advance
        self.advance = F(0)
        self._plan(d, bal - prepaid, [p["due"] for p in self.periods[k:]], k, self.rate(d), per["start"], mode)
        self.periods[k]["prepaid"] += prepaid
        return F(0)

    def projected_interest(self, per):
        """Whole-period interest of the running period as the schedule has it (settle=period):
        its recorded days plus the rest at today's balance and the rates in force."""
        days = list(per["days"])
        d = days[-1][0] + DAY if days else per["start"]
        while d < per["due"]:
            days.append((d, self.balance_on(per, d), self.rate(d)))
            d += DAY
        saved, per["days"] = per["days"], days
        try:
            return self.interest_over(per, per["start"], per["due"])
        finally:
            per["days"] = saved

    def rate_change(self, d, rate, seq):
        if self.settled or self.written_off:
            return
        k = self.current(d)
        if k is None or self.method in ("interest_first", "bullet"):
            return
        per = self.periods[k]
        self._plan(d, self.balance_on(per, d), [p["due"] for p in self.periods[k:]], k, F(str(rate)),
                   per["start"], "reduce")

    def extension(self, d, maturity):
        if self.settled or self.written_off:
            return
        k = self.current(d)
        if k is None:
            return
        per = self.periods[k]
        if self.method == "bullet":
            dues = [maturity]
        else:
            dues, j = [], 0
            while (x := month_add(self.start, j)) < maturity:
                if x > per["start"]:
                    dues.append(x)
                j += 1
            dues.append(maturity)
        self._plan(d, self.balance_on(per, d), dues, k, self.rate(d), per["start"], "reduce")

    def write_off(self, d):
        if self.settled or self.written_off:
            return
        k = self.current(d)
        if k is not None:
            per = self.periods[k]
            rest = sum((p["principal"] for p in self.periods[k:]), F(0))
            per["fixed_interest"] = cents(self.interest_over(per, per["start"], d))
            per["due"], per["principal"] = d, rest
            self.periods = self.periods[:k + 1]
        self.written_off = d
        if self.advance > 0:
            self.advance = self.settle_due(d, self.advance, [F(0)] * 4)

    # -- the day walk --------------------------------------------------------------------------
    def accrue(self, d, as_of):
        r = self.rate(d)
        for per in self.periods:
            if per["start"] <= d < per["due"] and not self.settled and not self.written_off:
                per["days"].append((d, self.balance_on(per, d), r))
        if self.written_off and d >= self.written_off:
            return
        if d >= as_of:
            return
        for per in self.periods:
            if per["due"] <= d and per["cleared"] is None:
                self._fix(per)
                if per["cleared"] is not None:
                    continue
                start = per["due"] + (timedelta(days=self.grace) if self.grace_mode == "deduct" else timedelta(0))
                if d >= start:
                    up, ui = self.unpaid(per)
                    per["unpaid_hist"].append((d, up * r, ui * r))


def run(terms: dict, entries: list, as_of: date) -> Ref:
    """entries: dicts with seq, kind, date, amount / rate / maturity / mode / reverses."""
    ref = Ref(**terms)
    reversed_ = {e["reverses"] for e in entries if e["kind"] == "reversal"}
    live = [e for e in entries if e["seq"] not in reversed_ and e["kind"] not in ("reversal", "disbursement")
            and (e["kind"] == "rate_change" or e["date"] <= as_of)]
    # rate changes are known in advance (a future one shapes the schedule, not the past)
    ref.rate_changes = [(e["date"], e["seq"], F(str(e["rate"]))) for e in live if e["kind"] == "rate_change"]
    d = ref.start
    while True:
        last = max([p["due"] for p in ref.periods] + [as_of] + [e["date"] for e in live])
        if d > last:
            break
        if d <= as_of:
            ref.use_advance(d)
        for e in sorted((e for e in live if e["date"] == d), key=lambda e: e["seq"]):
            kind = e["kind"]
            if kind in ("repayment", "recovery"):
                ref.pay(e["seq"], d, e["amount"], e.get("mode"))
            elif kind == "rate_change":
                ref.rate_change(d, e["rate"], e["seq"])
            elif kind == "extension":
                ref.extension(d, e["maturity"])
            elif kind == "write_off":
                ref.write_off(d)
        ref.accrue(d, as_of)
        d += DAY
    for per in ref.periods:
        ref._fix(per)
    ref.as_of = as_of
    return ref


def figures(ref: Ref) -> dict:
    """Every figure the engine reports, from the reference."""
    as_of = ref.as_of
    out = {"periods": [], "parts": {k: tuple(v) for k, v in ref.parts.items()}}
    pen_total = comp_total = F(0)
    overdue_p = overdue_i = F(0)
    days = 0
    for per in ref.periods:
        up, ui = ref.unpaid(per)
        pen, comp = ref.penalties(per, as_of) if (per["due"] < as_of or per["cleared"]) else (F(0), F(0))
        out["periods"].append((per["due"], per["principal"] + per["prepaid"], per["interest"],
                               per["paid"][3] + per["prepaid"], per["paid"][2], per["paid"][0], per["paid"][1],
                               per["cleared"]))
        if per["cleared"] is None:
            pen_total += max(pen - per["paid"][0], F(0))
            comp_total += max(comp - per["paid"][1], F(0))
            # a written-off claim is all due on the write-off date, that day included
            due = per["due"] < as_of or (ref.written_off is not None and per["due"] <= as_of)
            if due and (up > 0 or ui > 0):
                overdue_p += up
                overdue_i += ui
                days = max(days, (as_of - per["due"]).days)
    out["position"] = {
        "outstanding_principal": sum((ref.unpaid(p)[0] for p in ref.periods), F(0)),
        "overdue_principal": overdue_p, "overdue_interest": overdue_i, "days_overdue": days,
        "penalty": pen_total, "compound": comp_total,
        "settled_on": ref.settled, "written_off_on": ref.written_off, "advance": ref.advance,
    }
    # settlement quote on as_of
    k = ref.current(as_of) if not (ref.settled or ref.written_off) else None
    due = [p for p in ref.periods if p["due"] <= as_of and p["cleared"] is None]
    later = [p for p in ref.periods if p["due"] > as_of]
    prepaid = sum((ref.unpaid(p)[0] for p in later), F(0))
    accrued = F(0)
    if k is not None:
        per = ref.periods[k]
        accrued = per["interest"] if ref.settle == "period" else cents(ref.interest_over(per, per["start"], as_of))
    fee = cents(prepaid * ref.fee_pct / 100) if k is not None else F(0)
    quote = {"principal": sum((ref.unpaid(p)[0] for p in due), F(0)) + prepaid,
             "interest": sum((ref.unpaid(p)[1] for p in due), F(0)) + accrued,
             "penalty": pen_total, "compound": comp_total, "fee": fee}
    quote["total"] = sum(quote.values(), F(0)) - ref.advance
    quote["advance"] = ref.advance
    out["quote"] = quote
    return out
