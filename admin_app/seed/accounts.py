"""The demo accounts of SPEC §5 (password demo12345), made only by seed-demo and tests."""
from sqlalchemy import select

from admin_app.extensions import db
from models.user import User

DEMO_PASSWORD = "demo12345"
DEMO_USERS = (
    ("admin", "系统管理员", ("admin",)),
    ("officer", "王经理", ("officer",)),
    ("officer2", "李经理", ("officer",)),
    ("collector", "赵催收", ("collector",)),
    ("risk_checker", "孙风控", ("risk_checker",)),
    ("risk_approver", "周主管", ("risk_approver",)),
    ("reviewer", "吴审查", ("reviewer",)),
)


def ensure_demo_users() -> dict[str, User]:
    users = {}
    existing = {u.username: u for u in db.session.execute(select(User)).scalars()}
    for username, name, roles in DEMO_USERS:
        user = existing.get(username)
        if user is None:
            user = User(username=username)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        user.display_name = name
        user.roles = roles
        user.active = True
        users[username] = user
    db.session.flush()
    return users
