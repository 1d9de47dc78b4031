"""Configuration read from the environment; defaults run on SQLite with no setup."""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def _default_db_url() -> str:
    return "sqlite:///" + os.path.join(BASE_DIR, "instance", "postloan.db")


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_db_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(BASE_DIR, "instance", "uploads"))
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # Flask rejects bodies larger than this outright (upload limit plus form overhead).
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    FLASK_ADMIN_SWATCH = "default"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30")))
    WTF_CSRF_TIME_LIMIT = None
    # Daily job time for the scheduler process, HH:MM local time.
    JOB_DAILY_AT = os.environ.get("JOB_DAILY_AT", "01:30")
    # The development server runs the daily job at start and daily; web workers never do.
    RUN_SCHEDULER_IN_DEV = os.environ.get("RUN_SCHEDULER_IN_DEV", "0") == "1"
    LIST_PAGE_SIZE = 20
    # Behind a TLS-terminating proxy set FORCE_HTTPS=1 (redirects and HSTS).
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "0") == "1"
    RATELIMIT_HEADERS_ENABLED = True
    TESTING = False
    # werkzeug's method name; only the test suite lowers it (see tests/conftest.py).
    PASSWORD_HASH_METHOD = "scrypt"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "1") == "1"
    REMEMBER_COOKIE_SECURE = True


def load_config(name: str | None = None):
    name = name or os.environ.get("APP_CONFIG", "default")
    return ProductionConfig if name == "production" else Config
