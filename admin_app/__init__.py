"""The app factory: configuration, extensions, login, Chinese UI, the admin screens and
the CLI commands."""
import os

from flask import Flask, render_template
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

from admin_app.config import load_config
from admin_app.extensions import babel, csrf, db, login_manager, migrate


def create_app(config: dict | None = None, config_name: str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(load_config(config_name))
    if config:
        app.config.update(config)
    if app.config.get("PRODUCTION"):
        from admin_app.config import check_production

        check_production(app.config)  # before anything is opened or registered
    if isinstance(app.config.get("TRUSTED_PROXIES"), str):
        from admin_app.login_throttle import parse_trusted_proxies

        app.config["TRUSTED_PROXIES"] = parse_trusted_proxies(app.config["TRUSTED_PROXIES"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(os.path.dirname(app.config["SQLALCHEMY_DATABASE_URI"][10:]) or ".", exist_ok=True)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "zh_Hans_CN")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"

    with app.app_context():
        from admin_app import database

        database.configure_engine(db.engine)
        from admin_app import audit

        audit.install(db.session)
        from admin_app import sessions

        sessions.install(db.session)
        from admin_app import privacy

        privacy.install(db.session)
        from admin_app import data_scope

        data_scope.install(db.session)
        from services import portfolio_summary

        portfolio_summary.install(db.session)

    _register_security(app)
    from admin_app.auth import bp as auth_bp

    app.register_blueprint(auth_bp)
    from admin_app.auth import require_own_password

    app.before_request(require_own_password)
    _register_admin(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    from admin_app import once

    once.install(app)
    from admin_app import assets, date_input, formats, i18n

    formats.register_filters(app)
    date_input.register(app)
    i18n.register(app)
    assets.register(app)

    from admin_app.cli import register_cli

    register_cli(app)
    # Only the development server started by run-demo.sh sets this; web workers never do.
    if app.config["RUN_SCHEDULER_IN_DEV"] and os.environ.get("WERKZEUG_RUN_MAIN") != "false":
        from jobs.scheduler import start_background_scheduler

        start_background_scheduler(app)
    return app


def _register_admin(app: Flask) -> None:
    from views import register_views
    from views.home import HomeView

    admin = Admin(app, name="贷后管理", url="/",
                  index_view=HomeView(name="首页", url="/", endpoint="admin"),
                  theme=Bootstrap4Theme(base_template="admin/app_base.html", fluid=True),
                  csp_nonce_generator=_csp_nonce)
    register_views(admin)
    from admin_app.checks import check_declarations

    check_declarations(app, admin)
    app.extensions["postloan_admin"] = admin


def _csp_nonce() -> str:
    from flask import request

    return getattr(request, "csp_nonce", "")


CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _register_security(app: Flask) -> None:
    """Security headers (CSP with per-request nonces for our scripts, frame denial, no
    sniffing) and a rate limit on login attempts."""
    from flask_talisman import Talisman

    from admin_app.extensions import limiter

    Talisman(app, force_https=app.config.get("FORCE_HTTPS", False),
             content_security_policy=CSP, content_security_policy_nonce_in=["script-src"],
             frame_options="DENY", session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
             session_cookie_http_only=True, strict_transport_security=app.config.get("FORCE_HTTPS", False),
             referrer_policy="same-origin")
    limiter.init_app(app)


def _register_template_helpers(app: Flask) -> None:
    from admin_app.menu import cached_menu
    from admin_app.permissions import ROLES, allowed
    from admin_app.privacy import pii_cell

    app.jinja_env.globals["pii"] = pii_cell  # {{ pii(loan.customer, 'phone') }}: masked, revealable

    @app.context_processor
    def helpers():
        def current_user_role_labels():
            if not current_user.is_authenticated:
                return ""
            return "、".join(ROLES[r] for r in sorted(current_user.roles) if r in ROLES)

        def can(endpoint, verb="view"):
            return allowed(current_user, endpoint, verb)

        return {"current_user_role_labels": current_user_role_labels, "can": can, "cached_menu": cached_menu}


def _no_store_for_staff(response):
    """Pages and exports for a logged-in user carry personal data: no cache may keep them."""
    from flask import request

    if request.endpoint not in (None, "static", "admin.static") and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _reject_nul_bytes() -> None:
    """No legitimate form or query value carries a NUL byte; PostgreSQL cannot store one."""
    from flask import abort, request

    for key, value in request.values.items(multi=True):
        if "\x00" in key or "\x00" in value:
            abort(400)


def _register_error_pages(app: Flask) -> None:
    app.before_request(_reject_nul_bytes)
    app.after_request(_no_store_for_staff)
    messages = {403: "您没有权限访问此页面。", 404: "页面不存在。", 405: "不支持此操作方式,请从页面上的按钮进入。",
                413: f"上传的文件过大:单个文件不超过 {app.config['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MB。",
                400: "请求无效(可能是页面已过期,请刷新后重试)。", 500: "服务器内部错误,请稍后重试。"}

    def handler(err):
        code = getattr(err, "code", 500) or 500
        return render_template("error.html", code=code, message=messages.get(code, str(err))), code

    for code in messages:
        app.register_error_handler(code, handler)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_template("error.html", code=400,
                               message="表单已过期或缺少安全令牌(CSRF),请刷新页面后重试。"), 400
