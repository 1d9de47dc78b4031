# Sourced by run-demo.sh and run-tests.sh: make (or reuse) the project environment .venv with
# the interpreter found ($PYTHON, else python3) and install the locked requirements file $1
# into it. Works with Debian's own python3 (PEP 668 forbids pip outside a venv there).
# Afterwards $VPY is the environment's python and .venv/bin is first on PATH.
ensure_venv() {
  local req=$1 py=${PYTHON:-python3} venv=${VENV_DIR:-.venv}
  if ! command -v "$py" >/dev/null 2>&1; then
    echo "找不到 Python 解释器 '$py' / Python interpreter '$py' not found (set PYTHON=...)" >&2
    return 1
  fi
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "需要 Python 3.11 或更高版本 / Python 3.11+ required: $("$py" --version 2>&1)" >&2
    return 1
  fi
  local made_by
  made_by=$("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')
  # A .venv made by another interpreter (or broken) is made again.
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.made-by" 2>/dev/null)" != "$made_by" ]; then
    rm -rf "$venv"
  fi
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      # Debian ships venv/ensurepip separately (python3-venv).
      if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        local minor
        minor=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          python3-venv "python${minor}-venv" >/dev/null || true
      fi
      "$py" -m venv "$venv" || {
        echo "无法创建 .venv: 请安装 python3-venv (apt-get install python3-venv) / cannot create .venv" >&2
        return 1
      }
    fi
    echo "$made_by" > "$venv/.made-by"
  fi
  VPY="$PWD/$venv/bin/python"
  # Install again only when the lock file changed since the last install.
  local stamp="$venv/.installed-$(basename "$req")"
  if [ "$(sha256sum "$req" | cut -d' ' -f1)" != "$(cat "$stamp" 2>/dev/null)" ]; then
    "$VPY" -m pip install -q --disable-pip-version-check --require-hashes -r "$req"
    sha256sum "$req" | cut -d' ' -f1 > "$stamp"
  fi
  export PATH="$PWD/$venv/bin:$PATH"
  export VIRTUAL_ENV="$PWD/$venv"
}
