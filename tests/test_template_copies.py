"""Templates copied from Flask-Admin (to remove inline scripts, which the CSP forbids) are
compared with the installed originals (issue 15): each copy must equal the original with only
the replacements declared here. A Flask-Admin upgrade that changes an original fails this
test, naming the file, instead of the copy silently keeping the old markup."""
import pathlib
import re

import flask_admin
import pytest

ORIGINALS = pathlib.Path(flask_admin.__file__).parent / "templates" / "bootstrap4" / "admin"
COPIES = pathlib.Path(__file__).resolve().parent.parent / "admin_app" / "templates" / "admin"

# copy -> [(text in the original, text in the copy)]; the copy's first line is its {# note #}.
REPLACEMENTS = {
    "model/inline_list_base.html": [
        ("""onclick="faForm.addInlineField(this, '{{ field.id }}');\"""", 'data-inline-add="{{ field.id }}"'),
        # no icon font is loaded (page weight, issue 14): 移除 says it in words
        ('<i class="fa fa-times glyphicon glyphicon-remove"></i></a>', '移除</a>'),
        ('<span class="fa fa-times glyphicon glyphicon-remove"></span></a>', '移除</a>'),
    ],
    "model/row_actions.html": [
        ("""<button onclick="return faHelpers.safeConfirm('{{ _gettext('Are you sure you want to delete this record?') }}');\"""",
         """<button type="submit" data-confirm="{{ _gettext('Are you sure you want to delete this record?') }}\""""),
    ],
    "actions.html": [
        ("""onclick="return modelActions.execute('{{ p[0] }}');\"""", 'data-action-name="{{ p[0] }}"'),
    ],
}


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def copied_templates() -> list[str]:
    """Templates whose first line says they are copied from Flask-Admin (a template written
    anew under Flask-Admin's name is not a copy and is not compared)."""
    return sorted(str(p.relative_to(COPIES)) for p in COPIES.rglob("*.html")
                  if (ORIGINALS / p.relative_to(COPIES)).exists()
                  and "Copied from Flask-Admin" in p.read_text(encoding="utf-8").split("\n", 1)[0])


def test_every_copy_is_declared():
    assert set(copied_templates()) <= set(REPLACEMENTS)


@pytest.mark.parametrize("name", copied_templates())
def test_copy_equals_the_installed_original_but_for_its_declared_changes(name):
    """Changed a copy on purpose? Declare the change in REPLACEMENTS above."""
    original = (ORIGINALS / name).read_text(encoding="utf-8")
    for old, new in REPLACEMENTS.get(name, []):
        assert original.count(old) == 1, f"{name}: Flask-Admin {flask_admin.__version__} changed {old!r}"
        original = original.replace(old, new)
    copy = (COPIES / name).read_text(encoding="utf-8")
    first, rest = copy.split("\n", 1)
    assert re.fullmatch(r"\{#.*#\}", first.strip()), f"{name}: the copy starts with a note saying why"
    assert _lines(rest) == _lines(original), f"{name} differs from Flask-Admin's beyond the declared changes"
