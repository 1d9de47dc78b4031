"""The POST forms of a page as a browser would submit them: every input, textarea and
select with its current value (checked boxes only, the selected or first option)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    attrs: dict
    fields: list = field(default_factory=list)  # (name, value) pairs, in page order

    def data(self, **overrides) -> dict:
        out: dict = {}
        for name, value in self.fields:
            out.setdefault(name, value)
        out.update(overrides)
        return out

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list] | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, text = self._textarea
            # A browser drops the newline right after <textarea>.
            self._form.fields.append((name, text[2:] if text.startswith("\r\n") else text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, sel in options if sel] or [v for v, _ in options[:1]]
            if chosen:
                self._form.fields.append((name, chosen[0]))
            self._select = None


def post_forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return [f for f in parser.forms if f.method == "post"]


def form_by_id(html: str, form_id: str) -> Form:
    for f in post_forms(html):
        if f.attrs.get("id") == form_id:
            return f
    raise AssertionError(f"no POST form #{form_id} on the page")


def main_form(html: str) -> Form:
    """The page's form (the POST form with most fields, not the logout button)."""
    forms = [f for f in post_forms(html) if not f.action.endswith("/logout")]
    assert forms, "no POST form on the page"
    return max(forms, key=lambda f: len(f.fields))
