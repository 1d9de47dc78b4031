#!/usr/bin/env bash
# Sets up and runs the whole test suite: on SQLite, then again on PostgreSQL.
#   bash run-tests.sh           (PG_TEST_URL=postgresql://user@host:5432/db to point elsewhere)
# Python packages go into the project environment .venv (made with $PYTHON, else python3);
# as root it installs the Debian packages the tests drive (chromium, CJK fonts, LibreOffice Calc,
# poppler-utils).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv requirements-dev.txt

apt_install() {  # apt_install PACKAGE... (root only; otherwise say what is missing)
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "测试需要 Debian 软件包 / tests need Debian packages: sudo apt-get install $*" >&2
    exit 1
  fi
}
need=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  need+=(chromium fonts-noto-cjk)
fi
# XLSX exports are opened by LibreOffice in tests (tests/test_xlsx_libreoffice.py).
if ! command -v soffice >/dev/null 2>&1; then
  need+=(libreoffice-calc-nogui)
fi
# The print test renders Chromium's PDF of 贷款详情 to PNGs and reads its text (poppler).
if ! command -v pdftoppm >/dev/null 2>&1; then
  need+=(poppler-utils)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}"
fi
PG_URL=${PG_TEST_URL:-postgresql://postgres@127.0.0.1:5432/test}

echo "== SQLite =="
python -m pytest -n 2 "$@"

echo "== PostgreSQL (${PG_URL}) =="
if python - "$PG_URL" <<'PYEOF'
import sys
import sqlalchemy
try:
    sqlalchemy.create_engine(sys.argv[1]).connect().close()
except Exception as exc:
    print(f"PostgreSQL 不可用 ({exc.__class__.__name__}): PostgreSQL 测试将被跳过", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  TEST_DATABASE_URL="$PG_URL" python -m pytest -n 2 "$@"
else
  # Without a server the PostgreSQL suite reports itself skipped, never silently passed.
  python -m pytest -rs tests/test_postgres.py
fi
