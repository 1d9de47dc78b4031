"""Benchmark of issue 13 (work comes to the person) on a seeded big book (not a test):

- every 我的待办 card's count, per role, under that role's 数据权限 (target <= 50 ms);
- the home page for each demo role (target <= 200 ms);
- a data-scoped first page against the same page unscoped: officer's 还款中贷款查询 with the
  客户经理 scope 本人, then 全部 (target: scoped <= unscoped + 5 ms);
- contains searches' first pages (target < 100 ms): 客户名称 of 1, 2 (a rare and a common
  piece: gram index) and 4 characters (trigrams), 贷款编号 「85」, 「1985」 and a rare 5-digit
  part, 联系人, 担保人名称 of 2 and 3 characters, 催收编号 of 2 and 6 digits.

Medians of --runs after one warm-up; run it on a copy of the book (it changes the officer's
scope setting and puts it back):

    python bench/bench_work.py --db sqlite:////work/books/bench1m-work.db
    python bench/bench_work.py --db postgresql://postgres@127.0.0.1:5432/bench1m_work
"""
import argparse
import os
import re
import statistics
import sys
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

ROLES = ("admin", "officer", "collector", "risk_checker", "risk_approver", "reviewer")


def median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def make_app(url):
    from admin_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": True})


def client(app, username):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"username": username, "password": "demo12345", "csrf_token": token})
    assert r.status_code == 302, f"login as {username} failed"
    return c


def get(c, url):
    def run():
        r = c.get(url)
        assert r.status_code == 200, (url, r.status_code)
    return run


def todo_counts(app, runs):
    """Each role's cards, counted as the home page counts them: in a request of that user."""
    from flask_login import login_user
    from sqlalchemy import select

    from admin_app import clock
    from admin_app.extensions import db
    from models import User
    from services import todos

    rows = []
    for role in ROLES:
        with app.test_request_context("/"):
            user = db.session.execute(select(User).where(User.username == role)).scalar()
            login_user(user)
            today = clock.business_date()
            for card in todos.cards_for(user):
                n = card.count(user, today)
                ms = median_ms(lambda: card.count(user, today), runs)
                rows.append((role, card.label, n, ms))
            db.session.remove()
    return rows


def samples(app):
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from models import Collection, Customer, Guarantor, Loan

    with app.app_context():
        loan = db.session.execute(select(Loan).where(Loan.status == "active").order_by(Loan.id.desc()).limit(1)).scalar()
        contact = db.session.execute(select(Customer.contact_person).where(Customer.contact_person.isnot(None))
                                     .order_by(Customer.id.desc()).limit(1)).scalar() or "张"
        guarantor = db.session.execute(select(Guarantor.name).order_by(Guarantor.id.desc()).limit(1)).scalar() or "张"
        coll = db.session.execute(select(Collection.collection_no).order_by(Collection.id.desc()).limit(1)).scalar()
        loans = db.session.execute(select(func.count(Loan.id))).scalar()
        name = loan.customer_name
        return {"name2": name[2:4] if len(name) >= 4 else name[:2], "name4": name[2:6] if len(name) >= 6 else name,
                "loan_no_rare": loan.loan_no[-6:-1], "contact": contact[-2:] if len(contact) > 2 else contact,
                "guarantor": guarantor[-3:] if len(guarantor) > 3 else guarantor, "guarantor2": guarantor[-2:],
                "name1": name[2] if len(name) > 2 else name[-1],
                "collection": (coll or "CS0000")[-6:], "loans": loans}


def searches(app, v, runs):
    q = urllib.parse.quote
    cases = [
        (f"客户名称 「{v['name1']}」 (1 字)", f"/query_active/?q_customer={q(v['name1'])}"),
        (f"客户名称 「{v['name2']}」 (2 字)", f"/query_active/?q_customer={q(v['name2'])}"),
        ("客户名称 「有限」 (2 字, 常见)", f"/query_active/?q_customer={q('有限')}"),
        (f"客户名称 「{v['name4']}」 (4 字, 三元索引)", f"/query_active/?q_customer={q(v['name4'])}"),
        ("贷款编号 「85」", "/query_active/?q_loan_no=85"),
        ("贷款编号 「1985」", "/query_active/?q_loan_no=1985"),
        (f"贷款编号 「{v['loan_no_rare']}」", f"/query_active/?q_loan_no={v['loan_no_rare']}"),
        (f"联系人 「{v['contact']}」", f"/customers/?q_contact={q(v['contact'])}"),
        (f"担保人名称 「{v['guarantor2']}」", f"/guarantors/?q_name={q(v['guarantor2'])}"),
        (f"担保人名称 「{v['guarantor']}」", f"/guarantors/?q_name={q(v['guarantor'])}"),
        (f"催收编号 「{v['collection'][-2:]}」", f"/collection_query/?q_collection_no={q(v['collection'][-2:])}"),
        (f"催收编号 「{v['collection']}」", f"/collection_query/?q_collection_no={q(v['collection'])}"),
    ]
    c = client(app, "admin")
    cases = list({url: (label, url) for label, url in cases}.values())  # a 2-character name once
    return [(label, url, median_ms(get(c, url), runs)) for label, url in cases]


def scoped_page(app, runs):
    """Officer's first page of 还款中贷款查询 with the 客户经理 scope 本人, then 全部."""
    from admin_app import settings
    from admin_app.data_scope import setting_key

    key = setting_key("officer")
    with app.app_context():
        before = settings.get_choice(key)
    out = {}
    try:
        for scope in ("own", "all"):
            with app.app_context():
                settings.set_value(key, scope)
                from admin_app.extensions import db
                db.session.commit()
            c = client(app, "officer")
            out[scope] = median_ms(get(c, "/query_active/"), runs)
    finally:
        with app.app_context():
            settings.set_value(key, before)
            from admin_app.extensions import db
            db.session.commit()
    return out


def home_pages(app, runs):
    return [(role, median_ms(get(client(app, role), "/"), runs)) for role in ROLES]


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="SQLAlchemy URL of a seeded book (a copy)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", choices=("todo", "home", "scope", "search"), action="append")
    args = ap.parse_args()
    app = make_app(args.db)
    only = set(args.only or ("todo", "home", "scope", "search"))
    v = samples(app)
    print(f"# {args.db.split('://')[0]} · {v['loans']:,} loans · {load()} · medians of {args.runs}\n")
    if "todo" in only:
        print("| role | 我的待办 card | count | ms |\n|---|---|---:|---:|")
        for role, label, n, ms in todo_counts(app, args.runs):
            print(f"| {role} | {label} | {n:,} | {ms:.1f} |")
        print(f"\n({load()})\n")
    if "home" in only:
        print("| role | 首页 ms |\n|---|---:|")
        for role, ms in home_pages(app, args.runs):
            print(f"| {role} | {ms:.1f} |")
        print(f"\n({load()})\n")
    if "scope" in only:
        s = scoped_page(app, args.runs)
        print(f"officer 还款中贷款查询 first page: 本人 {s['own']:.1f} ms, 全部 {s['all']:.1f} ms, "
              f"difference {s['own'] - s['all']:+.1f} ms ({load()})\n")
    if "search" in only:
        print("| contains search (first page) | ms |\n|---|---:|")
        for label, url, ms in searches(app, v, args.runs):
            print(f"| {label} | {ms:.1f} |")
        print(f"\n({load()})")


if __name__ == "__main__":
    main()
