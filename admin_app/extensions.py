"""Flask extension singletons, initialised by the app factory."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def _client_address() -> str:
    from admin_app.login_throttle import client_address

    return client_address()


# Storage from RATELIMIT_STORAGE_URI (Redis in production), keyed by the client address that
# TRUSTED_PROXIES allows to be read from X-Forwarded-For.
limiter = Limiter(key_func=_client_address, default_limits=[])
