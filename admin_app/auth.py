"""Login, logout and the user's own password. One message for unknown user and wrong password,
with the same work for both (a dummy hash); failures throttled through the shared store
(admin_app/login_throttle.py); a fresh server-side session on login (admin_app/sessions.py);
`next` stays inside the app; an account an admin made or reset changes its password first."""
from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from admin_app import login_throttle, sessions
from admin_app.extensions import db, limiter, login_manager
from admin_app.passwords import RULES_TEXT, password_problems
from models.user import User, password_hash_method

bp = Blueprint("auth", __name__)

BAD_LOGIN = "用户名或密码错误。"
_DUMMY_HASHES: dict[str, str] = {}


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(message="请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码"), Length(max=128)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("当前密码", validators=[DataRequired(message="请输入当前密码")])
    new_password = PasswordField("新密码", validators=[DataRequired(message="请输入新密码")],
                                 description=RULES_TEXT)
    confirm_password = PasswordField("确认新密码", validators=[
        DataRequired(message="请再次输入新密码"), EqualTo("new_password", message="两次输入的密码不一致")])

    def validate_new_password(self, field):
        problems = password_problems(field.data, current_user.username)
        if problems:
            raise ValidationError(";".join(problems))
        if field.data == self.current_password.data:
            raise ValidationError("新密码不能与当前密码相同")


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not sessions.session_is_valid(user):
        return None
    return user


def find_user(username: str) -> User | None:
    """Usernames are unique without regard to case."""
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())).scalar()


def verify_password(user: User | None, password: str) -> bool:
    """The same hash work whether or not the account exists (no timing oracle)."""
    if user is None:
        method = password_hash_method()
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash("not-a-password-of-anyone", method=method)
        check_password_hash(_DUMMY_HASHES[method], password)
        return False
    return user.check_password(password)


def safe_next(target: str | None) -> str:
    """Only a path inside this app; anything with a scheme or host goes home."""
    if not target:
        return url_for("admin.index")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("admin.index")
    return target


def _start(user: User) -> None:
    session.clear()  # a fresh session: nothing from before login survives
    login_user(user)
    session.permanent = True
    sessions.start_session(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"],
               error_message="登录尝试过于频繁,请稍后再试。")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = login_throttle.client_address()
        refused = login_throttle.refusal(username, address)
        if refused is not None:
            flash(refused.message(), "error")
            return render_template("auth/login.html", form=form), 429
        user = find_user(username)
        ok = verify_password(user, form.password.data)
        if ok and user.active:
            login_throttle.record_success(username, address)
            _start(user)
            if user.must_change_password:
                flash("首次登录或密码已被管理员重置,请先设置您自己的密码。", "info")
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next(request.args.get("next")))
        login_throttle.record_failure(username, address)
        flash(BAD_LOGIN, "error")
        status = 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_all_sessions(current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append("当前密码不正确")
        else:
            user.set_password(form.new_password.data)  # ends every session of the user
            user.must_change_password = False
            db.session.commit()
            _start(user)
            flash("密码已修改;您在其他设备上的登录已全部退出。", "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form,
                           forced=current_user.must_change_password), 200


PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "admin.static"}


def require_own_password():
    """before_request: an account with an admin-given password may only change it (or leave)."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_ALLOWED):
        return redirect(url_for("auth.change_password"))
    return None
