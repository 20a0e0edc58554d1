#!/usr/bin/env bash
# The one command that runs edgevoice's whole test suite.
#
# On a fresh Debian 12 machine (as root, or with sudo) it installs what the suite
# needs: system packages (Chromium, Redis, the GStreamer WHIP client, gcc, ...), a
# virtual environment in .venv with the project and its test extras. Reruns skip
# what is already there. Then it runs ruff, ruff format --check, mypy and pytest.
# Arguments are passed to pytest:  scripts/test.sh -k whip -x
#
# Exit status: 0 only if every step passed (pytest collecting no tests is a failure).
# Behaviour does not depend on CI or any other environment variable.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
VENV=$ROOT/.venv
EXTRAS="test,local,fast,bench"
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/edgevoice-test.XXXXXX")

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

if [[ -t 1 ]]; then BOLD=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' OFF=$'\e[0m'
else BOLD="" RED="" GREEN="" OFF=""; fi

section() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$OFF"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%sERROR: %s%s\n' "$RED" "$*" "$OFF" >&2; exit 1; }

# Run a command with its output in a log file; show the tail only if it fails.
quietly() {
  local name=$1; shift
  local log="$LOGS/$name.log"
  if ! "$@" >"$log" 2>&1; then
    printf '%s    %s failed; last lines of %s:%s\n' "$RED" "$name" "$log" "$OFF" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -E "$@"
  else die "need root (or sudo) to run: $*"; fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install() {
  local missing=() pkg
  for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    info "all present: $*"
    return 0
  fi
  info "installing: ${missing[*]}"
  local t0=$SECONDS
  quietly apt-update as_root apt-get update -qq || die "apt-get update failed"
  quietly apt-install as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed"
  info "installed in $((SECONDS - t0)) s"
}

redis_answers() {
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379 && printf "PING\r\n" >&3 &&
    IFS= read -r reply <&3 && [[ $reply == +PONG* ]]' 2>/dev/null
}

# A python3 >= 3.11 that can create virtual environments (pyenv's counts).
pick_python() {
  local candidate path
  for candidate in python3 python3.13 python3.12 python3.11 /usr/bin/python3; do
    path=$(command -v "$candidate") || continue
    if "$path" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
      >/dev/null 2>&1; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

T_START=$SECONDS
printf '%sedgevoice test suite%s (%s)\n' "$BOLD" "$OFF" "$ROOT"

# ---------------------------------------------------------------- system packages
section "System packages"
command -v dpkg-query >/dev/null || die "this script expects Debian 12 (dpkg/apt)"
packages=(
  chromium                      # real browser for the demo page tests
  simple-whip-client            # real GStreamer WHIP client (whip-client)
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice
  gcc libc6-dev                 # builds the whip-client loopback shim
  libopus0                      # Opus for the bridge
  espeak-ng sox                 # speech fixtures
  redis-server                  # private Redis servers of the cluster tests (and 6379)
  coturn                        # TURN server of the relay-only call test
  iproute2                      # ip netns: the POP topology (tests/topology, as root)
)
# node and npm bundle the third-party WHIP/WHEP clients (tests/interop). Debian's
# packages when missing; a node that came with its own npm (e.g. NodeSource's nodejs,
# which conflicts with Debian's npm package) is used as it is.
command -v npm >/dev/null && command -v node >/dev/null || packages+=(nodejs npm)
PY=$(pick_python) || packages+=(python3 python3-venv python3-pip)
apt_install "${packages[@]}"

if [[ -z ${PY:-} ]]; then
  PY=$(pick_python) || die "no python3 >= 3.11 with venv support after installing python3"
fi

section "Redis on 127.0.0.1:6379"
if redis_answers; then
  info "answering"
else
  info "starting redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    >"$LOGS/redis.log" 2>&1 || { cat "$LOGS/redis.log" >&2; die "redis-server did not start"; }
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || die "redis-server started but does not answer PING"
  info "started"
fi

# ---------------------------------------------------------------- python env
section "Python environment (.venv)"
if [[ -x $VENV/bin/python ]] &&
  "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
  info "reusing .venv ($("$VENV/bin/python" -V 2>&1))"
else
  info "creating .venv with $PY ($("$PY" -V 2>&1))"
  rm -rf "$VENV"
  quietly venv "$PY" -m venv "$VENV" || die "could not create .venv"
fi

# Reinstall only when the dependency declaration or the interpreter changed.
stamp_file=$VENV/.edgevoice-install-stamp
stamp=$( { cat pyproject.toml; echo "$EXTRAS"; "$VENV/bin/python" -VV; } | sha256sum | cut -c1-16)
if [[ -f $stamp_file && $(<"$stamp_file") == "$stamp" ]] &&
  "$VENV/bin/python" -c 'import edgevoice' >/dev/null 2>&1; then
  info "dependencies up to date"
else
  info "pip install -e '.[$EXTRAS]' (log: $LOGS/pip.log)"
  t0=$SECONDS
  quietly pip "$VENV/bin/python" -m pip install -e ".[$EXTRAS]" || die "pip install failed"
  echo "$stamp" >"$stamp_file"
  info "installed in $((SECONDS - t0)) s"
fi
section "Browser clients of the interop test (tests/interop, npm ci)"
lock=$ROOT/tests/interop/package-lock.json
npm_stamp=$ROOT/tests/interop/node_modules/.edgevoice-stamp
if [[ -f $npm_stamp && $(<"$npm_stamp") == $(sha256sum <"$lock" | cut -c1-16) ]]; then
  info "node_modules up to date"
else
  (cd "$ROOT/tests/interop" && quietly npm-ci npm ci --no-audit --no-fund) || die "npm ci failed"
  sha256sum <"$lock" | cut -c1-16 >"$npm_stamp"
  info "installed the pinned packages"
fi

export VIRTUAL_ENV=$VENV
export PATH="$VENV/bin:$PATH"
info "setup took $((SECONDS - T_START)) s"

# ---------------------------------------------------------------- checks
declare -a RESULTS=()
FAILED=0
step() {
  local name=$1; shift
  section "$name"
  local t0=$SECONDS rc
  "$@"
  rc=$?
  if [[ $rc -eq 0 ]]; then
    RESULTS+=("${GREEN}ok${OFF}      $name ($((SECONDS - t0)) s)")
  else
    RESULTS+=("${RED}FAILED${OFF}  $name (exit $rc, $((SECONDS - t0)) s)")
    FAILED=1
  fi
}

run_pytest() {
  python -m pytest "$@"
  local rc=$?
  if [[ $rc -eq 5 ]]; then
    printf '%spytest collected no tests: that counts as a failure%s\n' "$RED" "$OFF" >&2
  fi
  return "$rc"
}

step "ruff check" ruff check .
step "ruff format --check" ruff format --check .
step "mypy" mypy
step "pytest" run_pytest "$@"

section "Summary ($((SECONDS - T_START)) s)"
printf '    %s\n' "${RESULTS[@]}"
rm -rf "$LOGS"
exit "$FAILED"
