"""Contains search through a trigram index (models.search): SQLite FTS5 trigram tables kept in
step by triggers, PostgreSQL pg_trgm GIN indexes. 「华信」 (2 characters, no trigram) still
finds by a scan; 「1985」 and longer text are looked up in the index."""
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from admin_app.extensions import db
from admin_app.screens import SearchField
from models import Customer, Guarantor, Loan
from models.search import SEARCHED, contains, fts_table, missing_objects, trgm_index
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


def _grow_loans(n: int = 5000) -> None:
    """Copies of the book's loans under other names and numbers, so PostgreSQL's planner
    weighs a real table (on a table of two rows any plan is as good)."""
    table = Loan.__table__
    cols = [c.name for c in table.columns if c.name not in ("id", "loan_no", "contract_no", "customer_name")]
    names = ", ".join(cols)
    db.session.execute(text(
        f"INSERT INTO loan ({names}, loan_no, contract_no, customer_name) "
        f"SELECT {names}, 'ZZ' || g || '-' || id, 'HZ' || g || '-' || id, '某某商贸' || g FROM loan, generate_series(1, {n}) g"))
    # New rows wait in the GIN pending list until (auto)vacuum; move them into the index.
    db.session.execute(text(f"SELECT gin_clean_pending_list('{trgm_index('loan', 'customer_name')}')"))
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


def test_a_short_search_scans_without_the_index(book):
    field = SearchField("customer", "客户名称", Loan.customer_name, mode="contains")
    plan = _plan(select(Loan.id).where(field.clause("华信")).order_by(Loan.id.desc()).limit(20))
    assert fts_table("loan") not in plan
    db.session.rollback()


def test_the_search_objects_exist_for_every_declared_column(app):
    with db.engine.connect() as conn:
        assert missing_objects(conn) == []
    assert set(SEARCHED) == {"customer", "loan", "guarantor", "collection", "warning"}
