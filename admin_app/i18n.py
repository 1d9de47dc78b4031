"""Chinese for the few strings Flask-Admin's compiled zh_Hans_CN catalogue lacks (its .po has
some of them, its .mo does not): flash messages of its create/edit/delete views and the
messages of its own form fields. Everything else is translated by Flask-Admin's and WTForms'
catalogues.

- `flash_text(message)`: what the page shows for a flashed message (admin/_frame.html);
- `ScreenForm`: the form base class of every ScreenView (form_base_class), whose field
  messages go through the same table before WTForms' catalogue."""
from __future__ import annotations

import re

from flask_admin.babel import Translations as AdminTranslations
from flask_admin.form import BaseForm

MISSING = {
    "Failed to create record.": "创建记录失败。",
    "Failed to save record.": "保存记录失败。",
    "Failed to delete record.": "删除记录失败。",
    "Record was successfully created.": "已创建。",
    "Record was successfully saved.": "已保存。",
    "Record was successfully deleted.": "已删除。",
    "Not a valid choice": "请选择列表中的一项",
    "Not a valid choice.": "请选择列表中的一项",
    "Invalid Choice: could not coerce.": "请选择列表中的一项",
    "Invalid choice(s): one or more data inputs could not be coerced.": "请选择列表中的一项",
    "Choices cannot be None.": "没有可选的项",
    "This field is required.": "此项必填",
    "Not a valid date value.": "请填写有效日期(YYYY-MM-DD)",
    "Not a valid datetime value.": "请填写有效时间(YYYY-MM-DD HH:MM)",
    "Not a valid decimal value.": "请填写数字",
    "Not a valid decimal value": "请填写数字",
    "Not a valid integer value.": "请填写整数",
    "Not a valid integer value": "请填写整数",
    "Not a valid float value.": "请填写数字",
    "Already exists.": "已存在相同的记录。",
    "Please select at least one record.": "请至少选择一条记录。",
    "Permission denied.": "没有权限。",
    "Invalid time format": "请填写有效时间",
}

# Flask-Admin's "Failed to ... %(error)s" and "Integrity error. %(message)s" carry a database
# message: the user sees the Chinese sentence; the technical text is left to the log.
_PREFIXED = (
    (re.compile(r"^(Failed to create record\.|创建记录失败。)\s*.+", re.S), "创建记录失败:数据不符合要求或与其他记录冲突。"),
    (re.compile(r"^(Failed to update record\.|更新记录失败。)\s*.+", re.S), "保存失败:数据不符合要求或与其他记录冲突。"),
    (re.compile(r"^(Failed to delete record\.|删除记录失败。)\s*.+", re.S), "删除失败:该记录仍被其他记录引用。"),
    (re.compile(r"^Integrity error\..*", re.S), "保存失败:数据违反约束(可能重复或与其他记录冲突)。"),
)


def flash_text(message) -> str:
    text = str(message)
    if text in MISSING:
        return MISSING[text]
    for pattern, chinese in _PREFIXED:
        if pattern.match(text):
            return chinese
    return message


class ScreenTranslations(AdminTranslations):
    def gettext(self, string: str) -> str:
        return MISSING.get(string) or super().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return MISSING.get(singular if n == 1 else plural) or super().ngettext(singular, plural, n)


class ScreenForm(BaseForm):
    class Meta:
        _translations = ScreenTranslations()

        def get_translations(self, form):
            return self._translations


def register(app) -> None:
    app.jinja_env.globals["flash_text"] = flash_text
