"""List rows are built in Python (ScreenView.row_cells) around a row-actions cell rendered
once per page for a stand-in id. Every screen, for roles with different buttons, must list
exactly what Flask-Admin's own list_row block renders: the reference below is that block
(flask_admin/templates/bootstrap4/admin/model/list.html) with our row links appended."""
import re
from datetime import date

import pytest
from jinja2 import ChoiceLoader, DictLoader

from admin_app import formats
from admin_app.screens import ScreenView, fast_url_for
from admin_app.seed import seed_demo

REFERENCE_ROW = """{% extends '%(base)s' %}
{% block list_row scoped %}
  {% set identity = admin_view.get_identity_columns() %}
  {% if actions %}
  <td class="list-checkbox-column fix-l"><input type="checkbox" name="rowid" class="action-checkbox" value="{{ get_pk_value(row) }}" title="选择此行" /></td>
  {% endif %}
  {% for c, name in list_columns %}
    {% set kind = admin_view.column_kind(c) %}
    {% set value = cell_text(kind, get_value(row, c)) %}
    <td class="col-{{ c|replace('.', '-') }}{% if c in identity %} fix-l{% endif %}{% if is_right_aligned(kind, value) %} num{% endif %}"
        {%- if value is string and value.__html__ is not defined and value|length > 10 %} title="{{ value }}"{% endif %}>{{ value }}</td>
  {% endfor %}
  {% if admin_view.column_display_actions %}
  <td class="list-buttons-column fix-r" data-row-label="{{ admin_view.row_label(row) }}">
    {% for action in list_row_actions if action.template_name != 'row_actions.delete_row' %}{{ action.render_ctx(get_pk_value(row), row) }}{% endfor %}
    {% for link in admin_view.row_links %}
      {% set url = link.url(row, admin_view) %}
      {% if url %}<a class="row-link" href="{{ url }}">{{ link.label }}</a>{% endif %}
    {% endfor %}
    {% for action in list_row_actions if action.template_name == 'row_actions.delete_row' %}
      <details class="row-more"><summary>更多 ▾</summary><div class="row-more-menu">{{ action.render_ctx(get_pk_value(row), row) }}</div></details>
    {% endfor %}
  </td>
  {% endif %}
{% endblock %}
"""


def _table(html: str) -> str:
    table = re.search(r'<table class="table[^"]*model-list"[^>]*>.*?</table>', html, re.S).group(0)
    table = re.sub(r'(name="(?:csrf_token|form_once)"[^>]*value=")[^"]*', r"\1", table)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", table)).replace("> ", ">").replace(" <", "<")


@pytest.mark.parametrize("username", ["admin", "officer", "risk_approver", "collector"])
def test_rows_match_flask_admins_own_row_block(app, db, client_for, monkeypatch, username):
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()
    views = [v for v in app.extensions["postloan_admin"]._views if isinstance(v, ScreenView)]
    references = {v.list_template: REFERENCE_ROW.replace("%(base)s", v.list_template) for v in views}
    app.jinja_env.globals.update(cell_text=formats.cell_text, is_right_aligned=formats.is_right_aligned)
    loader = app.jinja_env.loader
    client = client_for(username)
    compared = rows = 0
    for view in views:
        url = f"/{view.url.strip('/')}/"
        ours = client.get(url)
        with monkeypatch.context() as m:
            m.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader(
                {"reference/" + k: v for k, v in references.items()}), loader]))
            app.jinja_env.cache.clear()
            m.setattr(view, "list_template", "reference/" + view.list_template)
            reference = client.get(url)
        app.jinja_env.cache.clear()
        assert ours.status_code == reference.status_code, url
        if ours.status_code != 200:
            continue
        mine, theirs = _table(ours.get_data(as_text=True)), _table(reference.get_data(as_text=True))
        assert mine == theirs, url
        compared += 1
        rows += mine.count("<tr>") - 1
    assert compared >= 5 and rows > 40


def test_fast_url_for_fills_each_rows_ids_into_one_built_url(app):
    with app.test_request_context("/query_active/?q_customer=%E5%BC%A0"):
        for loan_id in (1, 7, 10**30, 123456789):
            assert fast_url_for("loan_detail.index", {"loan_id": loan_id}) == f"/loan_detail/{loan_id}/"
        # A text argument that happens to hold the stand-in number still gets its own URL.
        for text in ("1000000000000000000000000000000", "a b"):
            for i in (3, 4):
                args = {"id": i, "url": f"/x?q={text}"}
                from flask import url_for
                assert fast_url_for("warn_repayment_overdue.handle_view", args) == \
                    url_for("warn_repayment_overdue.handle_view", **args)
