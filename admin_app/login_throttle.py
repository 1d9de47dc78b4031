"""Login throttling that holds across workers and machines. Counters live in the limits
storage named by RATELIMIT_STORAGE_URI (Redis in production, memory in development), the same
store Flask-Limiter uses. Failures slow down one (account, address) pair progressively; an
account is locked only after many failures from many addresses, so one person guessing
cannot lock a colleague out. Unknown usernames are counted exactly like known ones."""
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, request
from limits.storage import storage_from_string

from admin_app import clock

log = logging.getLogger(__name__)

FREE_FAILURES = 3          # per (account, address) before any delay
MAX_DELAY_SECONDS = 15 * 60
WINDOW_SECONDS = 60 * 60   # failures are remembered this long
LOCK_FAILURES = 50         # an account locks after this many failures in the window ...
LOCK_ADDRESSES = 10        # ... coming from at least this many addresses
LOCK_SECONDS = 60 * 60


@dataclass(frozen=True)
class Refusal:
    retry_at: float   # epoch seconds
    locked: bool

    def message(self) -> str:
        seconds = max(1, math.ceil(self.retry_at - time.time()))
        if self.locked:
            at = datetime.fromtimestamp(self.retry_at, clock.zone()).strftime("%H:%M")
            return (f"该账户因来自多处的大量失败登录已被临时锁定,请于 {at} 后重试"
                    "(约 {} 分钟),或联系系统管理员解锁。".format(math.ceil(seconds / 60)))
        return f"登录失败次数过多,请于 {seconds} 秒后重试。"


def storage():
    store = current_app.extensions.get("login_throttle")
    if store is None:
        store = storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"])
        current_app.extensions["login_throttle"] = store
    return store


def _account(username: str) -> str:
    return (username or "").strip().lower()[:64]


def client_address() -> str:
    """The peer's address; behind proxies listed in TRUSTED_PROXIES the nearest untrusted
    address of X-Forwarded-For (anything a client writes there itself is ignored otherwise)."""
    trusted = current_app.config.get("TRUSTED_PROXIES") or ()
    remote = request.remote_addr or "unknown"

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not trusted or not is_trusted(remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a malformed hop: trust nothing beyond the last good one
        if not is_trusted(hop):
            return hop
        remote = hop
    return remote


def refusal(username: str, address: str) -> Refusal | None:
    """Why this attempt may not be checked now (and until when), or None."""
    acct = _account(username)
    try:
        store = storage()
        if store.get(f"login:lock:{acct}"):
            return Refusal(store.get_expiry(f"login:lock:{acct}"), locked=True)
        if store.get(f"login:wait:{acct}:{address}"):
            return Refusal(store.get_expiry(f"login:wait:{acct}:{address}"), locked=False)
    except Exception:  # a storage outage must not lock everyone out
        log.exception("login throttle storage unavailable")
    return None


def record_failure(username: str, address: str) -> None:
    acct = _account(username)
    try:
        store = storage()
        n = store.incr(f"login:fail:{acct}:{address}", WINDOW_SECONDS)
        if n == 1:
            store.incr(f"login:addrs:{acct}", WINDOW_SECONDS)
        if n > FREE_FAILURES:
            delay = min(2 ** (n - FREE_FAILURES), MAX_DELAY_SECONDS)
            store.incr(f"login:wait:{acct}:{address}", delay)
        total = store.incr(f"login:total:{acct}", WINDOW_SECONDS)
        if total >= LOCK_FAILURES and store.get(f"login:addrs:{acct}") >= LOCK_ADDRESSES:
            store.incr(f"login:lock:{acct}", LOCK_SECONDS)
    except Exception:
        log.exception("login throttle storage unavailable")


def record_success(username: str, address: str) -> None:
    acct = _account(username)
    try:
        store = storage()
        store.clear(f"login:fail:{acct}:{address}")
        store.clear(f"login:wait:{acct}:{address}")
    except Exception:
        log.exception("login throttle storage unavailable")


def is_locked(username: str) -> bool:
    try:
        return bool(storage().get(f"login:lock:{_account(username)}"))
    except Exception:
        log.exception("login throttle storage unavailable")
        return False


def unlock(username: str) -> None:
    """An admin's unlock: the account-wide lock and counters go (per-address delays expire)."""
    acct = _account(username)
    store = storage()
    for key in (f"login:lock:{acct}", f"login:total:{acct}", f"login:addrs:{acct}"):
        store.clear(key)


def parse_trusted_proxies(value: str) -> tuple:
    """TRUSTED_PROXIES: comma-separated addresses or networks, e.g. `127.0.0.1,10.0.0.0/8`."""
    nets = []
    for part in (value or "").split(","):
        if part.strip():
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(nets)
