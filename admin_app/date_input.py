"""The app's date and time inputs: a text box that opens the Chinese date picker
(static/date-picker.js on Flask-Admin's bundled daterangepicker, loaded by static/app.js
only on a page that has one) instead of the browser's own picker, which follows the
browser's language (`Nov`, `Su Mo Tu` on an English system). The server checks the value
like any other: YYYY-MM-DD, or YYYY-MM-DD HH:MM for a time.

Rendering a date input marks the request (its environ); only then does the page frame
tell static/app.js where the picker's files are, so other pages carry no trace of them."""
from flask import has_request_context, request
from markupsafe import Markup
from wtforms import fields
from wtforms.widgets import TextInput, html_params

DATE_FORMAT = "%Y-%m-%d"
MINUTE_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]  # typed, or as a browser's datetime-local sends it


class DatePickerInput(TextInput):
    """<input type="text" data-date-picker="date|minute">; a caller's type= is ignored."""

    def __init__(self, kind: str = "date"):
        super().__init__()
        self.kind = kind

    def __call__(self, field, **kwargs):
        kwargs.pop("type", None)
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("placeholder", "选择或输入日期" if self.kind == "date" else "选择或输入时间")
        kwargs["data-date-picker"] = self.kind
        mark_page()
        return super().__call__(field, **kwargs)


MARK = "postloan.date_picker"


def mark_page() -> None:
    if has_request_context():
        request.environ[MARK] = True


def on_page() -> bool:
    return has_request_context() and bool(request.environ.get(MARK))


def date_picker_input(name: str, value="", **attrs) -> Markup:
    """A date input outside a WTForms form (提前结清试算's 试算日期), the same as the widget's."""
    mark_page()
    attrs.setdefault("id", name)
    return Markup("<input %s>" % html_params(type="text", name=name, value=value, autocomplete="off",
                                             placeholder="选择或输入日期", **{"data-date-picker": "date"}, **attrs))


def register(app) -> None:
    app.jinja_env.globals.update(date_picker_input=date_picker_input,
                                 date_picker_on_page=on_page)


class DateField(fields.DateField):
    widget = DatePickerInput("date")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", DATE_FORMAT)
        super().__init__(label, validators, **kwargs)


class MinuteField(fields.DateTimeField):
    """A time to the minute (催收时间, 约谈时间), shown as YYYY-MM-DD HH:MM."""

    widget = DatePickerInput("minute")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", MINUTE_FORMATS)
        super().__init__(label, validators, **kwargs)
