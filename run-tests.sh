#!/usr/bin/env bash
# Sets up and runs the whole test suite: on SQLite, then again on PostgreSQL.
#   bash run-tests.sh           (PG_TEST_URL=postgresql://user@host:5432/db to point elsewhere)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
$PY -m pip install -q -r requirements.txt
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "需要 Debian 的 chromium 包来运行浏览器测试: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
PG_URL=${PG_TEST_URL:-postgresql://postgres@127.0.0.1:5432/test}

echo "== SQLite =="
$PY -m pytest -n 2 "$@"

echo "== PostgreSQL (${PG_URL}) =="
if $PY - "$PG_URL" <<'PYEOF'
import sys
import sqlalchemy
try:
    sqlalchemy.create_engine(sys.argv[1]).connect().close()
except Exception as exc:
    print(f"PostgreSQL 不可用 ({exc.__class__.__name__}): PostgreSQL 测试将被跳过", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  TEST_DATABASE_URL="$PG_URL" $PY -m pytest -n 2 "$@"
else
  # Without a server the PostgreSQL suite reports itself skipped, never silently passed.
  $PY -m pytest -rs tests/test_postgres.py
fi
