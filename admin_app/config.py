"""Configuration read from the environment; defaults run on SQLite with no setup."""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def _default_db_url() -> str:
    return "sqlite:///" + os.path.join(BASE_DIR, "instance", "postloan.db")


DEV_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_BYTES = 32


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_db_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(BASE_DIR, "instance", "uploads"))
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # Flask rejects bodies larger than this outright (upload limit plus form overhead).
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    # Times are stored as naive UTC and shown (and typed) in this zone, whatever the server's
    # or the database's zone; the business date is today in this zone (admin_app.clock).
    DISPLAY_TIMEZONE = os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_TIMEZONE = DISPLAY_TIMEZONE
    # Pins the business date (YYYY-MM-DD) for demos and tests; empty: today in DISPLAY_TIMEZONE.
    BUSINESS_DATE = os.environ.get("BUSINESS_DATE") or None
    FLASK_ADMIN_SWATCH = "default"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    # Server-side session limits (admin_app/sessions.py): idle and absolute, checked per request.
    IDLE_TIMEOUT_MINUTES = int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))
    ABSOLUTE_TIMEOUT_HOURS = int(os.environ.get("ABSOLUTE_TIMEOUT_HOURS", "12"))
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=IDLE_TIMEOUT_MINUTES)
    WTF_CSRF_TIME_LIMIT = None
    # Daily job time for the scheduler process, HH:MM in JOB_TIMEZONE (default DISPLAY_TIMEZONE).
    JOB_DAILY_AT = os.environ.get("JOB_DAILY_AT", "01:30")
    # The development server runs the daily job at start and daily; web workers never do.
    RUN_SCHEDULER_IN_DEV = os.environ.get("RUN_SCHEDULER_IN_DEV", "0") == "1"
    LIST_PAGE_SIZE = 20
    # Behind a TLS-terminating proxy set FORCE_HTTPS=1 (redirects and HSTS).
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "0") == "1"
    RATELIMIT_HEADERS_ENABLED = True
    # Login counters shared by every worker: redis://host:6379/0 in production; memory in development.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); empty:
    # the peer address is the client address.
    TRUSTED_PROXIES = os.environ.get("TRUSTED_PROXIES", "")
    PRODUCTION = False
    # The company's numbering rule for loan and contract numbers typed by staff (left empty,
    # numbers are generated: DK/HT + start date + 6-digit serial).
    LOAN_NUMBER_PATTERN = os.environ.get("LOAN_NUMBER_PATTERN", r"[A-Z0-9][A-Z0-9-]{3,31}")
    LOAN_NUMBER_PATTERN_TEXT = os.environ.get("LOAN_NUMBER_PATTERN_TEXT", "大写字母、数字和横线,4-32 位,字母或数字开头")
    CONTRACT_NUMBER_PATTERN = os.environ.get("CONTRACT_NUMBER_PATTERN", r"[A-Z0-9][A-Z0-9-]{3,39}")
    CONTRACT_NUMBER_PATTERN_TEXT = os.environ.get("CONTRACT_NUMBER_PATTERN_TEXT",
                                                  "大写字母、数字和横线,4-40 位,字母或数字开头")
    TESTING = False
    # werkzeug's method name; only the test suite lowers it (see tests/conftest.py).
    PASSWORD_HASH_METHOD = "scrypt"


class ProductionConfig(Config):
    PRODUCTION = True
    SESSION_COOKIE_SECURE = True
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "1") == "1"
    REMEMBER_COOKIE_SECURE = True


def load_config(name: str | None = None):
    name = name or os.environ.get("APP_CONFIG", "default")
    return ProductionConfig if name == "production" else Config


SECRET_HELP = ("生成方法 / generate one with:  python3 -c 'import secrets; print(secrets.token_hex(32))'  "
               "然后设置环境变量 SECRET_KEY / then export SECRET_KEY=<that value>")


def production_problems(config) -> list[str]:
    """What makes this configuration unsafe to serve production traffic (Chinese / English)."""
    problems = []
    key = config.get("SECRET_KEY") or ""
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if not key or key == DEV_SECRET_KEY:
        problems.append("未设置 SECRET_KEY 或使用了开发默认值 / SECRET_KEY is unset or the development default")
    elif len(raw) < MIN_SECRET_BYTES or len(set(raw)) < 8:
        problems.append(f"SECRET_KEY 过短或不够随机(至少 {MIN_SECRET_BYTES} 字节随机值) / "
                        f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} random bytes")
    if config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory"):
        problems.append("未设置 RATELIMIT_STORAGE_URI(如 redis://127.0.0.1:6379/0):登录限制须在所有进程间共享 / "
                        "RATELIMIT_STORAGE_URI is unset: login throttling must be shared by all workers (Redis)")
    return problems


class UnsafeProductionConfig(RuntimeError):
    pass


def check_production(config) -> None:
    problems = production_problems(config)
    if problems:
        raise UnsafeProductionConfig("生产环境拒绝启动 / refusing to start in production:\n  - "
                                     + "\n  - ".join(problems) + "\n" + SECRET_HELP)
