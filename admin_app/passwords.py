"""Password rules for every password a person chooses (admin create/reset, own change, the
create-user command). The demo accounts of SPEC §5 are made by seed-demo, not through here."""
import os
from functools import lru_cache

MIN_LENGTH = 10
MAX_LENGTH = 128
RULES_TEXT = (f"密码至少 {MIN_LENGTH} 位,不能全是同一个字符,不能包含用户名,"
              "不能是常见密码(如 12345678、password)。")
_LIST = os.path.join(os.path.dirname(__file__), "data", "common-passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (scripts/make_common_passwords.py), lower-cased."""
    with open(_LIST, encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def password_problems(password: str, username: str = "") -> list[str]:
    """Every rule the password breaks, as Chinese messages; empty when it is acceptable."""
    problems = []
    password = password or ""
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码最多 {MAX_LENGTH} 位")
    if password and len(set(password)) == 1:
        problems.append("密码不能全是同一个字符")
    if not password.strip():
        problems.append("密码不能只由空格组成")
    name = (username or "").strip().lower()
    if name and name in password.lower():
        problems.append("密码不能包含用户名")
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        problems.append("密码过于常见(在最常见的一万个密码之列),请换一个")
    return problems


def check_password_rules(password: str, username: str = "") -> None:
    """Raise ValueError with the messages joined, for services and the CLI."""
    problems = password_problems(password, username)
    if problems:
        raise ValueError(";".join(problems))
