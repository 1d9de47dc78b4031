#!/usr/bin/env bash
# Sets everything up on SQLite and runs the app with a demo book:
#   bash run-demo.sh            (LOANS=20000 bash run-demo.sh for a bigger book)
# Packages go into the project environment .venv (made with $PYTHON, else python3).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv requirements.txt
export FLASK_APP=wsgi
if [ ! -f instance/postloan.db ]; then
  flask --app wsgi init-db
  flask --app wsgi seed-demo --loans "${LOANS:-5000}" --seed 42
fi
PORT=${PORT:-5000}
echo
echo "贷后管理已启动: http://127.0.0.1:${PORT}/login"
echo "演示账户(密码均为 demo12345): admin, officer, officer2, collector, risk_checker, risk_approver, reviewer"
echo
# The development server also runs the daily job at start and then daily.
RUN_SCHEDULER_IN_DEV=1 exec flask --app wsgi run --host 127.0.0.1 --port "$PORT"
