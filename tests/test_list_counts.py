"""Every list screen's total (the count query, which may phrase its filters differently for
speed) equals the number of rows the list itself selects, on a demo book with every state."""
from datetime import date

from flask_login import login_user

from admin_app.screens import ScreenView
from admin_app.seed import seed_demo
from models import User


def test_every_screen_counts_exactly_the_rows_it_lists(app, db):
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()
    views = [v for v in app.extensions["postloan_admin"]._views if isinstance(v, ScreenView)]
    assert len(views) > 20
    checked = 0
    for view in views:
        with app.test_request_context(f"/{view.endpoint}/"):
            login_user(db.session.query(User).filter_by(username="admin").one())
            listed = view.get_query().count()
            counted = view.get_count_query().scalar()
            assert counted == listed, view.endpoint
            checked += listed > 0
    assert checked > 15  # most screens have rows on the demo book
