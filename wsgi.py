"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
import sys

from admin_app import create_app
from admin_app.config import UnsafeProductionConfig

try:
    app = create_app()
except UnsafeProductionConfig as exc:  # the reason and the fix, without a traceback
    print(exc, file=sys.stderr)
    raise SystemExit(1) from None
