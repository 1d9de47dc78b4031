"""A form submitted twice creates once (SPEC §4: 「该表单已提交」).

Every POST form on a page served to a signed-in user carries a one-time token: the hidden
field `form_once` is added to each <form method="post"> of the HTML response, so Flask-Admin's
create and action forms and every custom form get it without declaring anything.

A POST carrying a token claims it first, in the request's own transaction
(models.FormSubmission, keyed by the token):
- the view commits what it creates: the token is spent in the same transaction;
- the view refuses the form and rolls back: the claim goes with it, and the page shown
  again carries a fresh token;
- a replay of a spent token changes nothing: the user lands where the first submission
  went, with the message 「该表单已提交」. Two submissions at the same moment cannot both
  pass: the token is the primary key, so the second insert waits for the first
  transaction and then fails.

Requests without a token (AJAX calls, scripts) are not affected; CSRF still applies."""
from __future__ import annotations

import re
import secrets

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from models.clock import utc_now

FIELD = "form_once"
MESSAGE = "该表单已提交,本次提交未重复保存。"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']?post[\"']?[^>]*>", re.IGNORECASE)
_REDIRECTS = (301, 302, 303, 307, 308)


def new_token() -> str:
    return secrets.token_urlsafe(16)


def hidden_input() -> str:
    return f'<input type="hidden" name="{FIELD}" value="{new_token()}">'


def add_tokens(html: str) -> str:
    """`html` with a fresh token inside every POST form (one token per form)."""
    return _POST_FORM.sub(lambda m: m.group(0) + hidden_input(), html)


def _claim():
    """before_request: claim the posted token, or answer a replay."""
    if request.method != "POST" or FIELD not in (request.form or {}):
        return None
    token = request.form.get(FIELD, "")
    if not _TOKEN.fullmatch(token) or not current_user.is_authenticated:
        return None
    from models import FormSubmission

    db.session.add(FormSubmission(token=token, endpoint=(request.endpoint or "")[:128],
                                  user_id=current_user.id, created_at=utc_now().replace(microsecond=0)))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return replay_response(token)
    request.__dict__["_form_once"] = {"token": token, "spent": False}
    return None


def replay_response(token: str):
    from models import FormSubmission

    location = db.session.scalar(select(FormSubmission.location).where(FormSubmission.token == token))
    flash(MESSAGE, "warning")
    return redirect(location or request.referrer or url_for("admin.index"), code=303)


def purge_spent(before: datetime) -> int:
    """Forget tokens spent before `before` (housekeeping at each login, admin_app.sessions).
    A token is replayed from a page of a live session only: once no session of that age can
    be alive (ABSOLUTE_TIMEOUT_HOURS), the page's CSRF token is dead too, so the row is no
    longer needed — without this the table grows by one row per saved form, forever."""
    from sqlalchemy import delete

    from models import FormSubmission

    return db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < before)).rowcount or 0


def is_token_conflict(exc: BaseException) -> bool:
    """True for the unique-key failure of a token two submissions claimed at once."""
    return isinstance(exc, IntegrityError) and "form_submission" in str(exc.orig).lower()


def _after_commit(session) -> None:
    from flask import has_request_context

    if has_request_context():
        claim = request.__dict__.get("_form_once")
        if claim is not None:
            claim["spent"] = True


def _after_request(response):
    claim = request.__dict__.get("_form_once")
    if claim is not None:
        if claim["spent"] and response.status_code in _REDIRECTS and response.location:
            from models import FormSubmission

            db.session.execute(update(FormSubmission).where(FormSubmission.token == claim["token"])
                               .values(location=response.location[:512]))
            db.session.commit()
        elif not claim["spent"]:
            # Nothing committed with the token: release it now, not at the end of the app
            # context (which a test or script may keep open across requests).
            db.session.rollback()
    if (response.mimetype == "text/html" and not response.direct_passthrough
            and not response.is_streamed and not response.content_encoding
            and current_user and current_user.is_authenticated):
        html = response.get_data(as_text=True)
        if "<form" in html:
            response.set_data(add_tokens(html))
    return response


def install(app: Flask) -> None:
    app.before_request(_claim)
    app.after_request(_after_request)
    event.listen(db.session, "after_commit", _after_commit)

    @app.errorhandler(IntegrityError)
    def _token_race(exc):
        # The second of two simultaneous submissions, failing on the token's key at commit.
        db.session.rollback()
        if is_token_conflict(exc):
            return replay_response(request.form.get(FIELD, ""))
        raise exc
