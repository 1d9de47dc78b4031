"""Every question a page asks goes through the one styled Chinese dialog of the page frame
(admin/_confirm_dialog.html, driven by static/app.js): no template or script calls the
browser's own confirm() (English buttons on an English-locale browser, unstyled), and every
page that asks (data-confirm, row delete, bulk actions) carries the dialog."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "admin_app"
NATIVE = re.compile(r"(?<![\w.$])(?:window\.)?confirm\s*\(|\.confirm\s*\(|safeConfirm")


def _sources():
    files = sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "static").glob("*.js"))
    files += sorted(pathlib.Path(__file__).resolve().parent.parent.joinpath("views").glob("*.py"))
    assert len(files) > 50
    return files


def test_no_template_or_script_calls_the_browsers_confirm():
    calls = [f"{p.relative_to(ROOT.parent)}:{n}: {line.strip()}"
             for p in _sources() for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if NATIVE.search(line)]
    assert not calls, "native confirm() calls:\n" + "\n".join(calls)


def test_the_check_finds_a_native_confirm():
    for line in ('if (window.confirm("x")) {', "onclick=\"return confirm('删除?')\"", "faHelpers.safeConfirm('x')"):
        assert NATIVE.search(line), line
    assert not NATIVE.search('ask({text: "x"}, function () {});')
    assert not NATIVE.search('<button data-confirm="确定吗?">')


def test_the_dialog_is_in_the_page_frame_once():
    frame = (ROOT / "templates" / "admin" / "app_base.html").read_text(encoding="utf-8")
    assert frame.count("admin/_confirm_dialog.html") == 1
    includes = [p.name for p in (ROOT / "templates").rglob("*.html")
                if "_confirm_dialog.html" in p.read_text(encoding="utf-8") and p.name != "_confirm_dialog.html"]
    assert includes == ["app_base.html"]


@pytest.mark.parametrize("url", ["/job_runs/", "/customers/"])
def test_pages_that_ask_carry_the_dialog(client_for, url):
    html = client_for("admin").get(url).get_data(as_text=True)
    assert html.count('id="confirm-dialog"') == 1
    assert "确认删除" in html and "取消" in html
