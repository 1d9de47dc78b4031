"""Contains search through an index (models.search): 3 characters and more through trigrams
(SQLite FTS5 trigram tables kept in step by triggers, PostgreSQL pg_trgm GIN indexes), 1 and 2
characters (「华信」, 「华」) through the gram index (SQLite contentless FTS5 tables of the
values' pieces kept by triggers, PostgreSQL GIN indexes on search_grams(column))."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from admin_app.extensions import db
from admin_app.screens import SearchField
from models import Collection, Customer, Guarantor, Loan, Warning
from models.search import (GRAMMED, GRAMS_FUNCTION, SEARCHED, contains, fts_table, gram_hits, gram_index, gram_table,
                           grams, missing_objects, trgm_index)
from tests import review_factory as make


@pytest.fixture
def book(users):
    company = Customer(kind="company", name="重庆华信包装材料有限公司", id_number="91500000MA5U0AB123",
                       phone="13800000001", contact_person="王建国")
    db.session.add(company)
    db.session.flush()
    loan = make.loan(cust=company, days_overdue=30)
    loan.loan_no = "DK2019850001"
    other = make.loan(cust=make.customer(name="北京远大商贸"))
    db.session.add(Guarantor(loan_id=loan.id, kind="person", name="欧阳明辉", id_number="110101199001011234",
                             phone="13700000000", guaranteed_amount=Decimal("50000")))
    db.session.add(Collection(loan_id=loan.id, collection_no="CS2026120100731", target="borrower", method="phone",
                              contacted_at=datetime(2026, 12, 1, 9), content="电话"))
    db.session.add(Warning(kind="overdue", as_of=date(2026, 12, 1), subject_key=f"loan:{loan.id}", loan_id=loan.id,
                           customer_name=company.name, loan_no=loan.loan_no, contact_person="王建国"))
    db.session.commit()
    return {"loan": loan, "other": other}


def _ids(model, column, raw):
    dialect = db.engine.dialect.name
    return set(db.session.execute(select(model.id).where(contains(column, raw, dialect))).scalars())


@pytest.mark.parametrize("raw", ["华信", "1985", "华信包装", "包装材料有限", "dk2019"])
def test_contains_finds_short_and_long_substrings(book, raw):
    loan, other = book["loan"], book["other"]
    column = Loan.loan_no if raw[0].isascii() else Loan.customer_name
    found = _ids(Loan, column, raw)
    assert loan.id in found and other.id not in found


def test_every_searched_column_finds_through_the_index(book):
    assert _ids(Customer, Customer.contact_person, "王建国") == {book["loan"].customer_id}
    assert len(_ids(Guarantor, Guarantor.name, "欧阳明辉")) == 1
    assert _ids(Customer, Customer.name, "远大商") and not _ids(Customer, Customer.name, "不存在的公司")


def test_the_index_follows_inserts_updates_and_deletes(book):
    loan = book["loan"]
    loan.customer_name = "成都蓝天科技有限公司"
    db.session.commit()
    assert _ids(Loan, Loan.customer_name, "蓝天科技") == {loan.id}
    assert _ids(Loan, Loan.customer_name, "华信包装") == set()
    customer = make.customer(name="深圳前海华信咨询有限公司")
    db.session.commit()
    assert customer.id in _ids(Customer, Customer.name, "华信咨询")
    db.session.delete(customer)
    db.session.commit()
    assert _ids(Customer, Customer.name, "华信咨询") == set()


def test_special_characters_are_text_not_syntax(book):
    for raw in ('"华信"', "华信%", "a_b", "OR 1", "华信 包装"):
        assert book["other"].id not in _ids(Loan, Loan.customer_name, raw)


def _plan(query) -> str:
    if db.engine.dialect.name == "sqlite":
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        return " ".join(str(r[-1]) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    compiled = query.compile(db.engine)
    conn = db.session.connection()
    return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))


def _grow_loans(n: int = 5000, index: str = trgm_index("loan", "customer_name")) -> None:
    """Copies of the book's loans under other names and numbers, so PostgreSQL's planner
    weighs a real table (on a table of two rows any plan is as good)."""
    table = Loan.__table__
    cols = [c.name for c in table.columns if c.name not in ("id", "loan_no", "contract_no", "customer_name")]
    names = ", ".join(cols)
    db.session.execute(text(
        f"INSERT INTO loan ({names}, loan_no, contract_no, customer_name) "
        f"SELECT {names}, 'ZZ' || g || '-' || id, 'HZ' || g || '-' || id, '某某商贸' || g FROM loan, generate_series(1, {n}) g"))
    # New rows wait in the GIN pending list until (auto)vacuum; move them into the index.
    db.session.execute(text(f"SELECT gin_clean_pending_list('{index}')"))
    db.session.execute(text("ANALYZE loan"))


def test_a_long_search_uses_the_trigram_index(book):
    if db.engine.dialect.name == "postgresql":
        _grow_loans()
    field = SearchField("customer", "客户名称", Loan.customer_name, mode="contains")
    query = select(Loan.id).where(field.clause("华信包装")).order_by(Loan.id.desc()).limit(20)
    plan = _plan(query)
    if db.engine.dialect.name == "sqlite":
        assert f"{fts_table('loan')} VIRTUAL TABLE" in plan, plan
    else:
        assert trgm_index("loan", "customer_name") in plan, plan
    db.session.rollback()


MODELS = {"customer": Customer, "loan": Loan, "guarantor": Guarantor, "collection": Collection, "warning": Warning}


@pytest.mark.parametrize("table,column", [(t, c) for t, cols in SEARCHED.items() for c in cols])
def test_every_piece_of_one_or_two_characters_finds_its_row(book, table, column):
    """Every SEARCHED column: each 1- and 2-character piece of a stored value (start, middle,
    end; upper case too) finds the row (through the gram index for GRAMMED columns, by a scan
    for warning's), and a piece it lacks does not."""
    model = MODELS[table]
    col = getattr(model, column)
    row_id, value = db.session.execute(select(model.id, col).where(col.isnot(None)).order_by(model.id)).first()
    pieces = sorted(p for p in grams(value) if p.isalnum())
    assert len(pieces) >= 3, value
    for piece in pieces + [value[:2].upper(), value[-1]]:
        assert row_id in _ids(model, col, piece), (column, value, piece)
    assert row_id not in _ids(model, col, "龘" if value.isascii() else "Q9")
    assert row_id not in _ids(model, col, value[-1] + value[0])  # the ends do not join


def _held(column, raw) -> set:
    """The ids the gram index itself holds for `raw` (no LIKE after it)."""
    if db.engine.dialect.name == "postgresql":
        return set()  # an expression index: it holds what search_grams(value) gives, by construction
    return set(db.session.execute(gram_hits(column.expression, raw)).scalars())


def test_a_count_reads_the_same_rows_as_the_list(book):
    """The capped count phrases a gram search as a join with the index (SQLite): the same
    rows as the list's IN form, for one and two searched columns of one table."""
    dialect = db.engine.dialect.name
    loan = book["loan"]
    for raws in (("华信",), ("华",), ("司",), ("华信", loan.loan_no[-2:]), ("华", "Dk")):
        cols = (Loan.customer_name, Loan.loan_no)
        listed = [contains(c, r, dialect) for c, r in zip(cols, raws)]
        counted = [contains(c, r, dialect, db.session, counting=True) for c, r in zip(cols, raws)]
        ids = set(db.session.execute(select(Loan.id).where(*listed)).scalars())
        assert ids and ids == set(db.session.execute(select(Loan.id).where(*counted)).scalars()), raws


def test_short_searches_follow_inserts_updates_and_deletes(book):
    loan = book["loan"]
    loan.customer_name = "成都蓝天科技有限公司"
    db.session.commit()
    assert _ids(Loan, Loan.customer_name, "蓝天") == {loan.id}
    assert _ids(Loan, Loan.customer_name, "司") == {loan.id}
    assert _ids(Loan, Loan.customer_name, "华信") == set()
    assert loan.id not in _held(Loan.customer_name, "华信") | _held(Loan.customer_name, "庆")
    if db.engine.dialect.name == "sqlite":
        assert loan.id in _held(Loan.customer_name, "蓝天") and loan.id in _held(Loan.loan_no, "dk")
    customer = make.customer(name="深圳前海华信咨询有限公司")
    db.session.commit()
    assert customer.id in _ids(Customer, Customer.name, "华信")
    assert customer.id in _ids(Customer, Customer.name, "询")
    customer.contact_person = "李四"
    db.session.commit()
    assert customer.id in _ids(Customer, Customer.contact_person, "李四")
    customer.contact_person = None
    db.session.commit()
    assert customer.id not in _ids(Customer, Customer.contact_person, "李四")
    assert customer.id not in _held(Customer.contact_person, "李四")
    db.session.delete(customer)
    db.session.commit()
    assert _ids(Customer, Customer.name, "咨询") == set()
    assert customer.id not in _held(Customer.name, "咨询")


def test_the_postgresql_gram_function_is_the_python_rule(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("search_grams is PostgreSQL's")
    for value in ("重庆华信包装材料有限公司", "DK2019850001", "Ab-Cd 张", "华", "", "哈哈哈"):
        stored = db.session.execute(text(f"SELECT {GRAMS_FUNCTION}(:v)"), {"v": value}).scalar()
        assert set(stored) == grams(value), value
    assert db.session.execute(text(f"SELECT {GRAMS_FUNCTION}(NULL)")).scalar() is None


def test_a_short_search_uses_the_gram_index(book):
    if db.engine.dialect.name == "postgresql":
        _grow_loans(index=gram_index("loan", "customer_name"))
    field = SearchField("customer", "客户名称", Loan.customer_name, mode="contains")
    for raw in ("华信", "华"):
        plan = _plan(select(Loan.id).where(field.clause(raw)).order_by(Loan.id.desc()).limit(20))
        if db.engine.dialect.name == "sqlite":
            assert f"{gram_table('loan')} VIRTUAL TABLE" in plan, plan
        else:
            assert gram_index("loan", "customer_name") in plan, plan
    # punctuation is no piece the index holds: a scan, which still finds
    plan = _plan(select(Loan.id).where(field.clause("-")).limit(20))
    assert gram_table("loan") not in plan and gram_index("loan", "customer_name") not in plan
    db.session.rollback()


def test_a_gram_most_rows_hold_is_left_to_the_scan(book):
    """Through the index a database reads every row holding the gram: one held by more than
    sqrt(cap * rows) rows is cheaper to find by the scan the count cap stops (SQLite estimates
    from the index, PostgreSQL from the indexed expression's statistics)."""
    dialect = db.engine.dialect.name
    series = ("generate_series(1, 400) i" if dialect == "postgresql" else
              "(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 400) SELECT i FROM g)")
    db.session.execute(text(f"INSERT INTO customer (kind, name, id_number, phone) "
                            f"SELECT 'person', '某某商贸' || i, 'X' || i, '139' || i FROM {series}"))
    if dialect == "postgresql":
        db.session.execute(text("ANALYZE customer"))
    common, rare = (contains(Customer.name, raw, dialect, db.session, count_cap=10) for raw in ("商贸", "华信"))
    sql = {k: str(c.compile(db.engine)) for k, c in (("common", common), ("rare", rare))}
    assert "grams" not in sql["common"] and "grams" in sql["rare"], sql
    assert len(db.session.execute(select(Customer.id).where(common)).all()) == 401  # 北京远大商贸 too
    assert len(db.session.execute(select(Customer.id).where(rare)).all()) == 1
    db.session.rollback()


def test_warning_has_no_gram_index(book):
    """The daily job rewrites warnings every day: no gram index to rewrite with them."""
    assert "warning" in SEARCHED and "warning" not in GRAMMED and set(GRAMMED) == set(SEARCHED) - {"warning"}
    plan = _plan(select(Warning.id).where(contains(Warning.customer_name, "华信", db.engine.dialect.name)))
    assert "grams" not in plan
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            names = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
        else:
            names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
                        .scalars())
    assert not {n for n in names if n.startswith("warning_grams") or n.startswith("ix_warning_") and
                n.endswith("_grams")}


def test_the_search_objects_exist_for_every_declared_column(app):
    with db.engine.connect() as conn:
        assert missing_objects(conn) == []
    assert set(SEARCHED) == {"customer", "loan", "guarantor", "collection", "warning"}
