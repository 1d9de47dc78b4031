"""Load test (not a unit test): gunicorn with 2 workers on a real database, 16 concurrent
logged-in users for 60 s doing list searches, CSV exports, rate changes (preview + confirm)
and approvals at every stage of models.approval.WORKFLOWS, several users racing on the same
items. Then a consistency check in SQL on the database. Prints a markdown table; exits
non-zero if any request failed (5xx, unexpected status, connection error) or the check fails.
Refusals the application is meant to give ("该事项已被他人处理", a rate change another user
beat) are counted separately, not as errors.

    python bench/load_test.py                      # SQLite file bench/out/load.db (seeded if empty)
    python bench/load_test.py --db postgresql://postgres@127.0.0.1:5432/loadtest
    python bench/load_test.py --seconds 60 --users 16 --loans 20000
"""
import argparse
import collections
import html
import os
import random
import re
import statistics
import sys
import threading
import time
from datetime import date, datetime, timedelta

import requests

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
from bench.bench import OUT, make_app, seed, start_gunicorn  # noqa: E402

# Thread accounts (several threads share an account); the order spreads the roles.
ACCOUNTS = ("admin", "officer", "risk_checker", "risk_approver", "reviewer", "officer2",
            "risk_checker", "risk_approver", "admin", "officer", "risk_checker", "risk_approver",
            "reviewer", "officer2", "risk_checker", "risk_approver")
# What each role does, by weight (only what its permissions allow).
MIX = {
    "office": {"search_name": 3, "search_loan_no": 3, "search_product": 3, "export_csv": 1, "rate_change": 3},
    "risk": {"search_name": 1, "search_loan_no": 1, "search_product": 1, "export_csv": 1, "approval": 6},
}
ROLE_OF = {"admin": "office", "officer": "office", "officer2": "office"}
HOT_LOANS = 8  # loans many rate changes go to (two users on one loan at once)
POOL_SIZE = 150  # pending items of each workflow made before the run; rate-change loans
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ALERT = re.compile(r'<div class="alert alert-(\w+)[^"]*"[^>]*>(.*?)</div>', re.S)
REVIEW_LINK = re.compile(r'/review/(\d+)/"')


# ---- preparing the book ----------------------------------------------------------------
def has_loans(app) -> bool:
    from sqlalchemy import inspect, text

    from admin_app.extensions import db

    with app.app_context():
        if not inspect(db.engine).has_table("loan"):
            return False
        return db.session.execute(text("SELECT COUNT(*) FROM loan")).scalar() > 0


def prepare(app, rng: random.Random) -> dict:
    """Fill every approval stage's queue (through the services, as staff would) and pick
    what the users will work on. Returns the work plan and the id marks before the run."""
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from admin_app.seed.reviews import FINDINGS, _stage_actor
    from models import ApprovalStep, AuditLog, Installment, Loan, LoanProduct, RateChange, WriteOff
    from models.approval import WORKFLOWS
    from services import BusinessError, approvals, classification, inspection, writeoff

    today = date.today()
    with app.app_context():
        users = {u.username: u for u in db.session.execute(select(__import__("models").User)).scalars()}
        open_ids = list(db.session.execute(
            select(Loan.id).where(Loan.status.in_(("active", "overdue", "extended")),
                                  Loan.maturity_date > today + timedelta(days=62))
            .order_by(Loan.id)).scalars())
        rng.shuffle(open_ids)
        made = collections.Counter()
        officers = (users["officer"], users["officer2"])

        def fill(wf_key, make, candidates):
            """POOL_SIZE items spread over the stages: item n is carried n % stages stages."""
            wf = approvals.workflow(wf_key)
            for loan_id in candidates:
                if made[wf_key] >= POOL_SIZE:
                    break
                try:
                    with db.session.begin_nested():
                        item = make(loan_id, officers[made[wf_key] % 2])
                        if item is None:
                            continue
                        for i in range(made[wf_key] % len(wf.stages)):
                            approvals.approve(wf_key, item.id, _stage_actor(users, wf, i), "压测前置:同意")
                except BusinessError:
                    continue
                made[wf_key] += 1
            db.session.commit()

        def make_inspection(loan_id, officer):
            return inspection.create_inspection(
                loan_id, officer, kind="routine", method="onsite", inspected_on=today,
                risk_signals="无", conclusion="经营正常,风险可控。", **{k: v[0] for k, v in FINDINGS.items()})

        def make_class(loan_id, officer):
            loan = db.session.get(Loan, loan_id)
            if loan.five_class >= 5 or classification.open_change(loan_id) is not None:
                return None
            return classification.propose(loan_id, loan.five_class + 1, "压测:还款能力下降,建议调整。",
                                          officer, submit=True)

        def make_writeoff(loan_id, officer):
            return writeoff.apply(loan_id, officer, submit=True, reason="压测:借款人失联,无财产可供执行。")

        fill("inspection", make_inspection, open_ids[:POOL_SIZE * 2])
        fill("classification", make_class, open_ids[POOL_SIZE * 2:POOL_SIZE * 6])
        fill("writeoff", make_writeoff, [loan.id for loan in writeoff.lookup("", limit=POOL_SIZE)])

        # Rate changes: open loans with unpaid periods after today, within their product's range.
        rate_ids = open_ids[POOL_SIZE * 6:POOL_SIZE * 8]
        has_unpaid = select(Installment.loan_id).where(Installment.due_date > today,
                                                       Installment.paid_off_date.is_(None))
        rate_loans = [(lid, float(lo), float(hi)) for lid, lo, hi in db.session.execute(
            select(Loan.id, LoanProduct.min_rate, LoanProduct.max_rate).join(LoanProduct)
            .where(Loan.id.in_(rate_ids), Loan.id.in_(has_unpaid),
                   Loan.id.not_in(select(WriteOff.loan_id))))]  # a written-off loan leaves 合同变更
        names = list(db.session.execute(select(Loan.customer_name).where(Loan.id.in_(open_ids[:500]))).scalars())
        loan_nos = list(db.session.execute(select(Loan.loan_no).where(Loan.id.in_(open_ids[:500]))).scalars())
        products = list(db.session.execute(select(LoanProduct.id)).scalars())
        stages = [(wf.key, s.key, s.role, "/" + s.endpoint + "/") for wf in WORKFLOWS.values()
                  for s in wf.stages]
        marks = {"rate_change": db.session.scalar(select(func.coalesce(func.max(RateChange.id), 0))),
                 "approval_step": db.session.scalar(select(func.coalesce(func.max(ApprovalStep.id), 0))),
                 "audit_log": db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))}
        roles = {u.username: set(u.roles) for u in users.values()}
    return {"made": dict(made), "rate_loans": rate_loans, "names": names, "loan_nos": loan_nos,
            "products": products, "stages": stages, "marks": marks, "roles": roles}


# ---- the users ---------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = collections.defaultdict(list)  # kind -> ms
        self.count = collections.Counter()  # (kind, outcome) outcome: ok / refused / error
        self.errors = []  # (kind, what)
        self.refusals = collections.Counter()  # message -> n
        self.done = collections.Counter()  # business actions completed: rate_change, approve, reject

    def add(self, kind, ms, outcome, what=""):
        with self.lock:
            self.latency[kind].append(ms)
            self.count[(kind, outcome)] += 1
            if outcome == "error":
                self.errors.append((kind, what))
            elif outcome == "refused":
                self.refusals[what] += 1


class User:
    def __init__(self, base, username, plan, stats, rng):
        self.base, self.username, self.plan, self.stats, self.rng = base, username, plan, stats, rng
        self.s = requests.Session()
        self.roles = plan["roles"][username]

    def call(self, kind, method, path, expect=(200,), **kw):
        """One request; an unexpected status is an error. Returns the response or None."""
        t = time.perf_counter()
        try:
            r = self.s.request(method, self.base + path, allow_redirects=False, timeout=120, **kw)
        except requests.RequestException as exc:
            self.stats.add(kind, (time.perf_counter() - t) * 1000, "error", f"{path}: {exc!r}")
            return None
        ms = (time.perf_counter() - t) * 1000
        if r.status_code not in expect:
            self.stats.add(kind, ms, "error", f"{method} {path} -> {r.status_code}")
            return None
        self.stats.add(kind, ms, "ok")
        return r

    def login(self):
        page = self.s.get(self.base + "/login").text
        r = self.s.post(self.base + "/login", allow_redirects=False, data={
            "username": self.username, "password": "demo12345", "csrf_token": CSRF.search(page).group(1)})
        assert r.status_code == 302, f"login as {self.username} failed"

    def flash_after(self, kind, location) -> str:
        """Follow a redirect and read the flashed message(s) it shows."""
        r = self.call(kind, "GET", location.replace(self.base, ""))
        if r is None:
            return ""
        return " ".join(re.sub(r"<[^>]+>|×", "", html.unescape(m)).strip() for _, m in ALERT.findall(r.text))

    # -- actions
    def search_name(self):
        name = self.rng.choice(self.plan["names"])
        self.call("search", "GET", "/query_active/", params={"q_customer": name[:self.rng.randint(1, len(name))]})

    def search_loan_no(self):
        self.call("search", "GET", "/query_active/", params={"q_loan_no": self.rng.choice(self.plan["loan_nos"])})

    def search_product(self):
        self.call("search", "GET", "/query_active/", params={"q_product": self.rng.choice(self.plan["products"]),
                                                             "page": self.rng.randint(0, 20)})

    def export_csv(self):
        r = self.call("export", "GET", "/query_active/export/csv/",
                      params={"q_product": self.rng.choice(self.plan["products"])})
        if r is not None and "csv" not in r.headers.get("Content-Type", ""):
            self.stats.add("export", 0, "error", f"export answered {r.headers.get('Content-Type')}")

    def rate_change(self):
        loans = self.plan["rate_loans"]
        # A third of the changes go to a few hot loans, so users collide on the same loan.
        loan_id, low, high = self.rng.choice(loans[:HOT_LOANS] if self.rng.random() < 0.33 else loans)
        path = f"/contract_change/rate/{loan_id}/"
        form = self.call("rate_change", "GET", path)
        if form is None:
            return
        rate = f"{self.rng.uniform(low, high):.4f}"
        data = {"csrf_token": CSRF.search(form.text).group(1), "new_rate": rate,
                "effective_date": date.today().isoformat(), "reason": f"压测:{self.username}调整利率"}
        preview = self.call("rate_change", "POST", path, data=data)
        if preview is None:
            return
        if 'id="rate-confirm"' not in preview.text:  # refused at preview (e.g. same rate)
            self.stats.add("rate_change", 0, "refused", self._alerts(preview.text) or "no preview")
            return
        done = self.call("rate_change", "POST", path, data={**data, "confirm": "1"}, expect=(200, 302))
        if done is None:
            return
        if done.status_code == 302 and "/rate_history/" in done.headers["Location"]:
            with self.stats.lock:
                self.stats.done["rate_change"] += 1
        else:
            self.stats.add("rate_change", 0, "refused", self._alerts(done.text) or "confirm refused")

    def approval(self):
        mine = [s for s in self.plan["stages"] if s[2] in self.roles]
        wf_key, stage_key, role, url = self.rng.choice(mine)
        listing = self.call("approval", "GET", url, params={"q_scope": "waiting"})
        if listing is None:
            return
        ids = list(dict.fromkeys(REVIEW_LINK.findall(listing.text)))
        if not ids:
            return
        item_id = self.rng.choice(ids[:3])  # the first few: users sharing an account race on them
        review = self.call("approval", "GET", f"{url}review/{item_id}/")
        if review is None:
            return
        if "/decide" not in review.text:
            return  # no decision form: it moved on since the list was read (or four eyes)
        decision = "approve" if self.rng.random() < 0.8 else "reject"
        r = self.call("approval", "POST", f"{url}review/{item_id}/decide", expect=(302,), data={
            "csrf_token": CSRF.search(review.text).group(1), "decision": decision,
            "opinion": f"压测意见({self.username})"})
        if r is None:
            return
        if "/review/" in r.headers["Location"]:  # sent back to the item: refused, read why
            self.stats.add("approval", 0, "refused", self.flash_after("approval", r.headers["Location"])
                           or "refused")
        else:
            with self.stats.lock:
                self.stats.done[decision] += 1

    @staticmethod
    def _alerts(text):
        return " ".join(re.sub(r"<[^>]+>|×", "", html.unescape(m)).strip()
                        for c, m in ALERT.findall(text) if c in ("danger", "error", "warning"))

    def run(self, stop_at):
        mix = MIX[ROLE_OF.get(self.username, "risk")]
        actions, weights = list(mix), list(mix.values())
        while time.time() < stop_at:
            getattr(self, self.rng.choices(actions, weights)[0])()


# ---- the consistency check ----------------------------------------------------------------
BALANCE_SQL = """
WITH s AS (SELECT loan_id, SUM(principal_due) pd, SUM(principal_paid) pp, SUM(interest_paid) ip,
                  SUM(penalty_paid) fp FROM installment GROUP BY loan_id),
     r AS (SELECT loan_id, SUM(principal_part) pp, SUM(interest_part) ip, SUM(penalty_part) fp,
                  SUM(amount) a FROM repayment GROUP BY loan_id)
SELECT l.id, l.loan_no, l.outstanding_principal, l.principal, s.pd, s.pp, r.pp
FROM loan l LEFT JOIN s ON s.loan_id = l.id LEFT JOIN r ON r.loan_id = l.id
WHERE s.loan_id IS NULL
   OR ABS(l.outstanding_principal - (s.pd - s.pp)) > 0.005       -- balance = schedule - paid
   OR ABS(s.pd - l.principal) > 0.005                            -- schedule carries the principal
   OR ABS(COALESCE(r.pp, 0) - s.pp) > 0.005                      -- payments = what the schedule shows paid
   OR ABS(COALESCE(r.ip, 0) - s.ip) > 0.005
   OR ABS(COALESCE(r.fp, 0) - s.fp) > 0.005
   OR ABS(COALESCE(r.a, 0) - (COALESCE(r.pp, 0) + COALESCE(r.ip, 0) + COALESCE(r.fp, 0))) > 0.005
"""
STEPS_SQL = "SELECT workflow, item_id, stage, decision, id FROM approval_step ORDER BY workflow, item_id, id"
ITEMS_SQL = {"inspection": "inspection", "classification": "classification_change", "writeoff": "write_off"}
RATE_AUDIT_SQL = """
SELECT rc.id FROM rate_change rc WHERE rc.id > :mark AND NOT EXISTS (
  SELECT 1 FROM audit_log a WHERE a.table_name = 'rate_change' AND a.action = 'create'
   AND a.record_id = CAST(rc.id AS VARCHAR(48)))
"""
INSTALLMENT_AUDIT_SQL = """
SELECT COUNT(*) FROM rate_change rc WHERE rc.id > :mark AND NOT EXISTS (
  SELECT 1 FROM audit_log a WHERE a.table_name = 'installment' AND a.action = 'update'
   AND a.loan_id = rc.loan_id AND a.id > :audit_mark)
"""
STEP_AUDIT_SQL = """
SELECT s.id FROM approval_step s WHERE s.id > :mark AND NOT EXISTS (
  SELECT 1 FROM audit_log a WHERE a.table_name = 'approval_step' AND a.action = 'create'
   AND a.record_id = CAST(s.id AS VARCHAR(48)))
"""


def consistency(app, marks) -> list[tuple[str, int, str]]:
    """(check, failures, example) for each check; failures 0 means it holds."""
    from sqlalchemy import text

    from admin_app.extensions import db
    from models.approval import WORKFLOWS

    out = []
    with app.app_context():
        q = lambda sql, **p: db.session.execute(text(sql), p).all()  # noqa: E731
        bad = q(BALANCE_SQL)
        out.append(("every loan: balance = schedule − payments, schedule = principal, payments = paid parts",
                    len(bad), str(bad[0]) if bad else ""))

        # Approval trail, per item and round (a round starts at each submit/resubmit):
        # every stage decided at most once, in workflow order; the item's state matches.
        rounds = collections.defaultdict(list)
        for wf_key, item_id, stage, decision, _ in q(STEPS_SQL):
            if decision in ("submit", "resubmit"):
                rounds[(wf_key, item_id)].append([])
            elif decision in ("approve", "reject") and rounds[(wf_key, item_id)]:
                rounds[(wf_key, item_id)][-1].append((stage, decision))
        twice, order, state = [], [], []
        for wf_key, table in ITEMS_SQL.items():
            stages = [s.key for s in WORKFLOWS[wf_key].stages]
            for item_id, status, stage in q(f"SELECT id, review_status, review_stage FROM {table}"):
                item_rounds = rounds.get((wf_key, item_id), [])
                for r in item_rounds:
                    keys = [s for s, _ in r]
                    if len(keys) != len(set(keys)):
                        twice.append((wf_key, item_id, keys))
                    if keys != stages[:len(keys)] or any(d == "reject" for _, d in r[:-1]):
                        order.append((wf_key, item_id, r))
                last = item_rounds[-1] if item_rounds else []
                approved = [s for s, d in last if d == "approve"]
                ok = {"approved": approved == stages,
                      "pending": stage in stages and approved == stages[:stages.index(stage)],
                      "rejected": bool(last) and last[-1] == (stage, "reject"),
                      }.get(status, True)
                if not ok:
                    state.append((wf_key, item_id, status, stage, last))
        out.append(("no approval step recorded twice for one item and stage", len(twice), str(twice[:1])))
        out.append(("steps follow the workflow's stage order", len(order), str(order[:1])))
        out.append(("approved items passed every stage of their workflow once; pending/rejected match "
                    "their trail", len(state), str(state[:1])))
        missing = q(RATE_AUDIT_SQL, mark=marks["rate_change"])
        out.append(("audit log has the creation of every rate change of the run", len(missing), str(missing[:1])))
        n = db.session.execute(text(INSTALLMENT_AUDIT_SQL),
                               {"mark": marks["rate_change"], "audit_mark": marks["audit_log"]}).scalar()
        out.append(("audit log has the schedule update of every rate change of the run", n, ""))
        missing = q(STEP_AUDIT_SQL, mark=marks["approval_step"])
        out.append(("audit log has every approval step of the run", len(missing), str(missing[:1])))
    return out


# ---- main ----------------------------------------------------------------------------------
def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: SQLite file bench/out/load.db)")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--loans", type=int, default=20000, help="loans to seed when the database is empty")
    ap.add_argument("--reseed", action="store_true", help="drop and seed even if the database has loans")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--port", type=int, default=8766)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    db_url = args.db or "sqlite:///" + os.path.join(OUT, "load.db")
    app = make_app(db_url)
    if args.reseed or not has_loans(app):
        secs = seed(app, args.loans, args.seed, date.today())
        print(f"seeded {args.loans:,} loans in {secs:.0f} s", flush=True)
    rng = random.Random(args.seed)
    plan = prepare(app, rng)
    print(f"queued for approval: {plan['made']}; {len(plan['rate_loans'])} loans for rate changes", flush=True)

    proc = start_gunicorn(db_url, args.port)
    stats = Stats()
    try:
        base = f"http://127.0.0.1:{args.port}"
        users = [User(base, ACCOUNTS[i % len(ACCOUNTS)], plan, stats, random.Random(args.seed * 1000 + i))
                 for i in range(args.users)]
        for u in users:
            u.login()
        stop_at = time.time() + args.seconds
        started = time.time()
        threads = [threading.Thread(target=u.run, args=(stop_at,)) for u in users]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.time() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    checks = consistency(app, plan["marks"])
    dialect = db_url.split(":", 1)[0].split("+")[0]
    total = sum(n for (k, o), n in stats.count.items() if o in ("ok", "error"))
    errors = len(stats.errors)
    print(f"\n### load test: {dialect}, gunicorn 2 workers, {args.users} users, {elapsed:.0f} s "
          f"({datetime.now():%Y-%m-%d %H:%M})\n")
    print("| kind | requests | errors | refused (expected) | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("search", "export", "rate_change", "approval"):
        lat = stats.latency[kind]
        ok, err = stats.count[(kind, "ok")], stats.count[(kind, "error")]
        print(f"| {kind} | {ok + err} | {err} | {stats.count[(kind, 'refused')]} | "
              f"{statistics.median(lat) if lat else 0:.0f} | {pct(lat, 95):.0f} |")
    every = [ms for v in stats.latency.values() for ms in v]
    print(f"| **all** | **{total}** ({total / elapsed:.1f}/s) | **{errors}** | "
          f"{sum(stats.refusals.values())} | {statistics.median(every) if every else 0:.0f} | {pct(every, 95):.0f} |")
    print(f"\nCompleted: {stats.done['rate_change']} rate changes, {stats.done['approve']} approvals, "
          f"{stats.done['reject']} rejections.")
    if stats.refusals:
        print("Refusals: " + "; ".join(f"{m} ×{n}" for m, n in stats.refusals.most_common(6)))
    for kind, what in stats.errors[:10]:
        print(f"ERROR {kind}: {what}")
    print("\n| consistency check (SQL after the run) | failures |")
    print("|---|---:|")
    for name, n, example in checks:
        print(f"| {name} | {n} |" + (f" e.g. {example[:200]}" if n else ""))
    failed = errors > 0 or any(n for _, n, _ in checks)
    print("\nRESULT: " + ("FAIL" if failed else "PASS"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
