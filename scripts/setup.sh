#!/usr/bin/env bash
# Installs everything mailsleuth and its tests need, idempotently:
#   Debian packages: knot (DNS server for integration tests), chromium (browser tests),
#   spamassassin (rule descriptions), and a Python virtual environment in .venv with the package
#   and its test dependencies.  Usage: scripts/setup.sh [--no-system] [--runtime-only]
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM=1
EXTRAS="[test]"
for arg in "$@"; do
  case "$arg" in
    --no-system) SYSTEM=0 ;;
    --runtime-only) EXTRAS="" ;;
  esac
done

PY=${PYTHON:-python3}

if [ "$SYSTEM" = 1 ]; then
  need=()
  command -v knotd >/dev/null 2>&1 || [ -x /usr/sbin/knotd ] || need+=(knot)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -d /usr/share/spamassassin ] || need+=(spamassassin)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "setup: installing Debian packages: ${need[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-liberation >/dev/null
    else
      echo "setup: not root; please install: ${need[*]} (tests needing them will be skipped)" >&2
    fi
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRAS}" 2>&1 | grep -v -E "^WARNING: Location|^$" || true
.venv/bin/python -c "import mailsleuth" || { echo "setup: mailsleuth did not install" >&2; exit 1; }
echo "setup: ready (.venv)"
