#!/usr/bin/env bash
# Install edgevoice into .venv (first run only) and start it: `edgevoice serve` on the
# embedded default (no Redis, no API keys, the offline model). Arguments go to serve:
#   scripts/serve.sh --port 9000 --model echo
# Works on a fresh Debian 12 machine as root (or with sudo).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -E "$@"; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
  >/dev/null 2>&1; }

missing=()
installed libopus0 || missing+=(libopus0)
PY=$(command -v python3 || true)
if [[ -z $PY ]] || ! python_ok "$PY"; then missing+=(python3 python3-venv python3-pip); fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "==> installing ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  PY=$(command -v python3)
fi

# An editable install: the source tree is what runs, so a `git pull` needs no reinstall;
# dependencies are reinstalled when pyproject.toml changed.
stamp=$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -x .venv/bin/edgevoice || ! -f .venv/.serve-stamp || $(<.venv/.serve-stamp) != "$stamp" ]] ||
  ! .venv/bin/python -c 'import edgevoice, pathlib, sys; sys.exit(pathlib.Path(edgevoice.__file__).resolve().parents[1] != pathlib.Path.cwd().resolve())' 2>/dev/null; then
  echo "==> installing edgevoice into .venv (first run: a few minutes)"
  [[ -x .venv/bin/python ]] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q -e '.[local,fast]'
  echo "$stamp" >.venv/.serve-stamp
fi
echo "==> edgevoice is installed in $ROOT/.venv: run 'source .venv/bin/activate' to have the"
echo "    edgevoice command (edgevoice serve, node, signalling, keys, probe, bench) on PATH"
exec .venv/bin/edgevoice serve "$@"
