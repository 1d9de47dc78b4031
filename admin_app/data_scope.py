"""数据权限 (data scope): which loans, customers and records a signed-in user may see.

Per role, admins choose 本人 (the loans where the user is 客户经理, those loans' customers
and every record hanging on them) or 全部 (admin_app.settings, group 数据权限; default 客户经理
本人, every other role 全部). A user holding several roles gets the widest of them.

Enforced ONCE: a session hook adds the scope's criteria to every ORM SELECT issued during a
request (lists, counts, details by id, exports, AJAX lookups, home cards, downloads, custom
pages, relationship loads) through SQLAlchemy's supported `with_loader_criteria`. A record
outside the scope is simply not found, so a page asked for it by id answers 404.

Which records a scope reaches is declared here per model: a model with a `loan_id` column
follows its loan, one with only a `customer_id` follows its customer; the few others are
listed in _rules(). Jobs, CLI commands and seeding run outside requests, unscoped."""
from __future__ import annotations

from contextlib import contextmanager

from flask import has_request_context, request
from sqlalchemy import and_, event, exists, inspect, or_
from sqlalchemy.orm import aliased, with_loader_criteria

OWN, ALL = "own", "all"
SCOPES = {OWN: "本人", ALL: "全部"}
# Roles whose default is 本人; every other role defaults to 全部.
DEFAULT_OWN_ROLES = frozenset({"officer"})

_KEY = "_postloan_data_scope"


def setting_key(role: str) -> str:
    return f"scope.{role}"


def _loan_rule(loan, uid: int):
    """My loans: those I am 客户经理 of, and those with no 客户经理 yet (nobody else's book)."""
    return or_(loan.officer_id == uid, loan.officer_id.is_(None))


def _customer_rule(cust, loan, uid: int):
    """My customers: those I am 客户经理 of, those with a loan in my scope, and those nobody
    holds yet (no 客户经理, no loan: a new customer is nobody else's book)."""
    return or_(cust.officer_id == uid,
               exists().where(loan.customer_id == cust.id, _loan_rule(loan, uid)),
               and_(cust.officer_id.is_(None), ~exists().where(loan.customer_id == cust.id)))


def _models():
    import models

    return models


class _Aliases:
    """The aliases the rules' subqueries use, made once: statements built with the same
    aliases have the same cache key, so SQLAlchemy compiles each scoped statement once
    (fresh anonymous aliases per request made every officer's page compile anew: seconds)."""

    def __init__(self):
        m = _models()
        self.loan, self.loan2 = aliased(m.Loan, name="scope_loan"), aliased(m.Loan, name="scope_loan2")
        self.customer = aliased(m.Customer, name="scope_customer")


def _rules(a: _Aliases) -> dict:
    """Model -> function(uid) giving its where-clause, for models the convention misses."""
    m = _models()

    def loan_in_scope(loan_id_col, uid):
        return exists().where(a.loan.id == loan_id_col, _loan_rule(a.loan, uid))

    def customer_in_scope(customer_id_col, uid):
        return exists().where(a.customer.id == customer_id_col, _customer_rule(a.customer, a.loan2, uid))

    rules = {
        m.Loan: lambda uid: _loan_rule(m.Loan, uid),
        m.Customer: lambda uid: _customer_rule(m.Customer, a.loan, uid),
        m.Receipt: lambda uid: exists().where(
            m.Collection.id == m.Receipt.collection_id,
            loan_in_scope(m.Collection.loan_id, uid)).correlate_except(m.Collection),
        # 首页's portfolio summary rows carry the 客户经理 of the loans they count.
        m.PortfolioSummary: lambda uid: _loan_rule(m.PortfolioSummary, uid),
        # Credit-line warnings point at a customer only.
        m.Warning: lambda uid: or_(
            and_(m.Warning.loan_id.isnot(None), loan_in_scope(m.Warning.loan_id, uid)),
            and_(m.Warning.loan_id.is_(None), customer_in_scope(m.Warning.customer_id, uid))),
    }
    return rules, loan_in_scope, customer_in_scope


def scope_rules() -> dict:
    """Every scoped model with its rule: _rules()' entries, then the convention (a model
    with a loan_id follows its loan; one with only a customer_id follows its customer)."""
    from admin_app.extensions import db

    rules, loan_in_scope, customer_in_scope = _rules(_Aliases())
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if cls in rules:
            continue
        cols = mapper.columns
        if "loan_id" in cols:
            rules[cls] = (lambda c: lambda uid: loan_in_scope(c.loan_id, uid))(cls)
        elif "customer_id" in cols:
            rules[cls] = (lambda c: lambda uid: customer_in_scope(c.customer_id, uid))(cls)
    return rules


def role_scope(role: str) -> str:
    from admin_app import settings

    return settings.get_choice(setting_key(role))


def officer_scope(user) -> int | None:
    """The officer id whose book `user` is confined to, or None for 全部."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    roles = user.roles
    if not roles or any(role_scope(r) == ALL for r in roles):
        return None
    return user.id


def current_scope() -> int | None:
    """The scope of the request's user, computed once per request (None: 全部 or no request)."""
    if not has_request_context():
        return None
    cache = request.__dict__
    if _KEY in cache:
        return cache[_KEY]
    cache[_KEY] = None  # while computing: the user and settings queries run unscoped
    from flask_login import current_user

    cache[_KEY] = officer_scope(current_user._get_current_object())
    return cache[_KEY]


@contextmanager
def unscoped():
    """Run a block (e.g. the daily job started from a page) over the whole book."""
    if not has_request_context():
        yield
        return
    cache = request.__dict__
    saved = cache.get(_KEY, _MISSING)
    cache[_KEY] = None
    try:
        yield
    finally:
        if saved is _MISSING:
            cache.pop(_KEY, None)
        else:
            cache[_KEY] = saved


_MISSING = object()


def _criteria_options(uid: int, models: frozenset) -> tuple:
    """The with_loader_criteria options of one officer's scope over `models`, built once per
    officer (the same option objects: their SQL is compiled once)."""
    every = _OPTIONS.get(uid)
    if every is None:
        every = _OPTIONS[uid] = {model: with_loader_criteria(model, rule(uid), include_aliases=False)
                                 for model, rule in _scoped_models().items()}
    return tuple(option for model, option in every.items() if model in models)


def _scoped_models() -> dict:
    rules = _OPTIONS.get("rules")
    if rules is None:
        rules = _OPTIONS["rules"] = scope_rules()
    return rules


def _row_models(statement) -> set:
    """The models whose rows `statement` returns (its mapped entities); every scoped model
    when it returns none at the top (a capped count over a subquery). Only their criteria are
    attached: each of the ~24 options costs its cache key on every execution, most of a scoped
    page's extra time. A row of a scoped model carries its own rule, so its joined or
    eager-loaded loan and customer are in scope with it; a statement returning only unscoped
    rows (users, sessions, settings, products) gets none."""
    found = set()
    for d in getattr(statement, "column_descriptions", ()):
        entity = d.get("entity")
        if entity is not None:
            found.add(inspect(entity).mapper.class_)
    return found or set(_scoped_models())


_OPTIONS: dict = {}


def install(session_factory) -> None:
    @event.listens_for(session_factory, "do_orm_execute")
    def _apply(state):
        if not state.is_select or state.is_column_load or state.is_relationship_load:
            return
        if state.execution_options.get("postloan_unscoped"):
            return
        # The models first: a statement of unscoped rows only (the user being loaded, the
        # session row, settings) must not ask for the user, whose loading is such a statement
        # (asking made flask_login load the user and its session row twice a request).
        models = _row_models(state.statement) & _scoped_models().keys()
        if not models:
            return
        uid = current_scope()
        if uid is not None:
            state.statement = state.statement.options(*_criteria_options(uid, frozenset(models)))


