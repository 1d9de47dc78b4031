"""Page weight: one Bootstrap, scripts only where a page uses them, static files under
content-hashed URLs kept a year, responses compressed (brotli/gzip).
Measured in a browser by bench/page_weight.py (figures in the issue's note)."""
import re

from admin_app.assets import YEAR


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_a_list_page_loads_one_stylesheet_set_and_one_script(client_for):
    html = client_for("admin").get("/query_overdue/").get_data(as_text=True)
    assets = _assets(html)
    assert sum("bootstrap" in a and a.split("?")[0].endswith(".css") for a in assets) == 1
    assert [a.split("?")[0] for a in assets if ".js" in a] == ["/static/app.js"]
    assert not any(name in html for name in ("jquery", "select2", "moment", "daterangepicker", "font-awesome"))


def test_forms_load_the_lookup_scripts_they_need(client_for):
    html = client_for("admin").get("/customers/new/").get_data(as_text=True)
    scripts = [a.split("?")[0] for a in _assets(html) if ".js" in a]
    assert "/static/admin/vendor/jquery.min.js" in scripts and "/static/admin/admin/js/form.js" in scripts
    assert "novalidate" in html


def test_static_urls_carry_the_content_hash_and_are_kept_a_year(client_for, app):
    client = client_for("admin")
    html = client.get("/query_overdue/").get_data(as_text=True)
    css = next(a for a in _assets(html) if a.startswith("/static/app.css"))
    assert re.search(r"\?v=[0-9a-f]{12}$", css)
    r = client.client.get(css, headers={"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200
    assert r.cache_control.max_age == YEAR and r.cache_control.immutable
    assert r.headers["Content-Encoding"] in ("br", "gzip") and len(r.data) < 14_000 * 0.6
    # A URL whose hash is not the file's content is not kept.
    stale = client.client.get("/static/app.css?v=000000000000")
    assert stale.cache_control.max_age != YEAR


def test_pages_are_compressed_when_the_browser_accepts_it(client_for):
    client = client_for("admin")
    plain = client.get("/query_overdue/")
    client._fresh()
    packed = client.client.get("/query_overdue/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert len(packed.data) < len(plain.data) / 3


def test_no_template_uses_inline_event_handlers():
    """The CSP forbids inline script: an onclick="confirm(...)" is silently ignored and the form
    posts unconfirmed. Confirmations go through data-confirm (static/app.js)."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "admin_app" / "templates"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html")
                 if re.search(r"\son(click|submit|change|load)\s*=", p.read_text(encoding="utf-8"))]
    assert not offenders
