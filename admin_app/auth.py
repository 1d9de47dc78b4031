"""Login and logout. One message for unknown user and wrong password; accounts lock for
a while after repeated failures; a fresh session on login; `next` stays inside the app."""
from datetime import datetime, timedelta
from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin_app.extensions import db, limiter, login_manager
from models.user import User

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
LOCK_MINUTES = 15
BAD_LOGIN = "用户名或密码错误,或账户已被锁定。"


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(message="请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码"), Length(max=128)])


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def safe_next(target: str | None) -> str:
    """Only a path inside this app; anything with a scheme or host goes home."""
    if not target:
        return url_for("admin.index")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("admin.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"],
               error_message="登录尝试过于频繁,请稍后再试。")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.username == form.username.data.strip())).scalar()
        now = datetime.now()
        locked = user is not None and user.locked_until is not None and user.locked_until > now
        if user is not None and user.active and not locked and user.check_password(form.password.data):
            user.failed_logins = 0
            user.locked_until = None
            db.session.commit()
            session.clear()  # a fresh session: nothing from before login survives
            login_user(user)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")))
        if user is not None and not locked:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
            db.session.commit()
        flash(BAD_LOGIN, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))
