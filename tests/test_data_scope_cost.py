"""数据权限 attaches only the criteria of the models a statement returns (admin_app.data_scope):
each of ~24 with_loader_criteria options costs its cache key on every execution, which made an
officer's scoped first page cost about twice the unscoped one. Rows stay scoped: a count over a
subquery (no entity at the top) still gets every rule."""
from flask_login import login_user
from sqlalchemy import func, select

from admin_app.data_scope import _row_models, _scoped_models
from admin_app.extensions import db
from models import Collection, Customer, Loan, LoanProduct, User
from tests import review_factory as make


def test_a_statement_gets_the_rules_of_the_rows_it_returns(app):
    assert _row_models(select(Loan).where(Loan.status == "active")) == {Loan}
    assert _row_models(select(Collection.id, Loan.loan_no).join(Collection.loan)) == {Collection, Loan}
    assert _row_models(select(User)) == {User} and User not in _scoped_models()
    assert _row_models(select(LoanProduct.id, LoanProduct.name)).isdisjoint(_scoped_models())
    # A count over a subquery returns no entity: every rule, so the count stays scoped.
    count = select(func.count()).select_from(select(Loan.id).subquery())
    assert _row_models(count) == set(_scoped_models())


def test_counts_and_rows_stay_scoped_for_an_officer(app, users):
    mine = make.loan(cust=make.customer(name="张明远"), officer=users["officer"])
    make.loan(cust=make.customer(name="孙梅"), officer=users["officer2"])
    db.session.commit()
    with app.test_request_context("/"):
        login_user(users["officer"])
        rows = db.session.execute(select(Loan.id)).scalars().all()
        count = db.session.execute(select(func.count()).select_from(select(Loan.id).subquery())).scalar()
        names = db.session.execute(select(Customer.name)).scalars().all()
        assert rows == [mine.id] and count == 1 and names == ["张明远"]
        assert len(db.session.execute(select(User)).scalars().all()) == len(users)
