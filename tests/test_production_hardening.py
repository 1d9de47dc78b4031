"""Production start-up and response hardening (issue 15): production refuses the public
development key, a short or repetitive key and per-process login counters, saying how to make
a key; authenticated pages and exports are never cached; the production server names no
version; exports neutralise formulas hidden behind full-width characters or leading blanks."""
import os
import secrets
import subprocess
import sys

import pytest

from admin_app import create_app
from admin_app.config import DEV_SECRET_KEY, UnsafeProductionConfig, production_problems
from admin_app.export import cell

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY, "short-key", "a" * 64, "ab" * 40])
def test_production_refuses_a_missing_default_short_or_repetitive_key(key, tmp_path):
    config = {"RATELIMIT_STORAGE_URI": REDIS, "UPLOAD_FOLDER": str(tmp_path)}
    if key is not None:
        config["SECRET_KEY"] = key
    else:
        config["SECRET_KEY"] = ""
    with pytest.raises(UnsafeProductionConfig) as err:
        create_app(config, config_name="production")
    text = str(err.value)
    assert "SECRET_KEY" in text and "secrets.token_hex(32)" in text and "拒绝启动" in text


def test_production_accepts_32_random_bytes_and_needs_shared_counters():
    good = {"SECRET_KEY": secrets.token_hex(32), "RATELIMIT_STORAGE_URI": REDIS}
    assert production_problems(good) == []
    assert any("RATELIMIT_STORAGE_URI" in p for p in production_problems({**good, "RATELIMIT_STORAGE_URI": "memory://"}))


def test_the_cli_in_production_without_a_key_exits_1_with_the_reason_and_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "RATELIMIT_STORAGE_URI")}
    env.update(APP_CONFIG="production", DATABASE_URL="sqlite:///" + str(tmp_path / "x.db"),
               UPLOAD_FOLDER=str(tmp_path / "up"))
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "SECRET_KEY" in r.stderr and "Traceback" not in r.stderr


def test_authenticated_pages_and_exports_are_not_stored(client_for):
    officer = client_for("officer")
    for url in ("/", "/bank_cards/", "/query_active/export/csv/", "/query_active/export/xlsx/", "/password"):
        r = officer.get(url)
        r.get_data()  # read the streamed export to its end
        assert r.status_code == 200, url
        assert r.headers.get("Cache-Control") == "no-store", url
    login_page = client_for().get("/login")
    assert "no-store" not in (login_page.headers.get("Cache-Control") or "")


def test_the_production_server_names_no_version():
    """README deploys under gunicorn, whose Server header is its bare name (the finding was
    the development server's `Werkzeug/x Python/y`)."""
    import gunicorn.http.wsgi

    assert gunicorn.http.wsgi.SERVER == "gunicorn"


@pytest.mark.parametrize("text", ["＝1+2", "＋1", "－1", "＠SUM(A1)", " =1+2", "\n=1+2", "  \t@x", "\u3000＝HYPERLINK()",
                                  "=1+2", "-3", "\r=1"])
def test_formulas_are_neutralised_behind_full_width_and_blank_prefixes(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["张三", "a=b", "1-2", " 正常文本", "email@x.cn"])
def test_ordinary_text_is_left_alone(text):
    assert cell(text) == text
