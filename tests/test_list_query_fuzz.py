"""Random query strings on every list (issue 15): page numbers, page sizes and sort keys out
of range are clamped or refused with a message, never a 500 (the finding: ?page=
9223372036854775807 was an OverflowError on every list)."""
from urllib.parse import urlencode

import pytest
from flask_admin.model import BaseModelView

from admin_app import flask_admin_compat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HUGE = [9223372036854775807, 9223372036854775808, -9223372036854775809, 10**30, -1, -10**18]


def list_endpoints(app):
    admin = app.extensions["postloan_admin"]
    return sorted(v.endpoint for v in flask_admin_compat.registered_views(admin) if isinstance(v, BaseModelView))


@pytest.fixture
def admin_client(client_for):
    return client_for("admin")


def test_every_list_survives_huge_and_negative_numbers(app, admin_client):
    bad = []
    for endpoint in list_endpoints(app):
        for value in HUGE + ["abc", "1e9", "²", "", "0x10", " 3"]:
            for key in ("page", "page_size", "sort", "desc"):
                r = admin_client.get(f"/{endpoint}/?{urlencode({key: value})}")
                if r.status_code >= 500:
                    bad.append((endpoint, key, value, r.status_code))
    assert bad == []


query_value = st.one_of(st.integers(min_value=-10**20, max_value=10**20).map(str),
                        st.text(max_size=12), st.sampled_from([str(v) for v in HUGE]))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_query_strings_never_give_a_500(app, admin_client, data):
    endpoint = data.draw(st.sampled_from(list_endpoints(app)))
    keys = data.draw(st.lists(st.sampled_from(["page", "page_size", "sort", "desc", "search", "flt0_0",
                                               "q_customer", "q_loan_no", "stage"]), max_size=4))
    query = {k: data.draw(query_value).replace("\x00", "") for k in keys}
    r = admin_client.get(f"/{endpoint}/?{urlencode(query)}")
    assert r.status_code < 500, (endpoint, query)


def test_record_ids_out_of_range_are_not_found_not_a_500(app, admin_client):
    bad = []
    for endpoint in list_endpoints(app):
        for page in ("details", "edit"):
            for value in HUGE + ["abc", "²"]:
                r = admin_client.get(f"/{endpoint}/{page}/?{urlencode({'id': value})}")
                if r.status_code >= 500:
                    bad.append((endpoint, page, value, r.status_code))
    r = admin_client.get(f"/warn_repayment_due/handle/?id={HUGE[1]}")
    if r.status_code >= 500:
        bad.append(("handle", r.status_code))
    assert bad == []
