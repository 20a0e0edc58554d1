#!/usr/bin/env bash
# The POP topology on this machine (root): network namespaces, a userspace delay/loss
# forwarder, redis, signalling, relay and one edgevoice node per POP.
#   scripts/pops.sh up                 # build and run; Ctrl-C tears everything down
#   scripts/pops.sh set caller far 300 # one-way delay (ms) [and loss 0-1] at run time
#   scripts/pops.sh status | down
# See docs/benchmarks.md ("POPs on one machine") and tests/topology/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || { echo "no .venv: run scripts/test.sh first" >&2; exit 1; }
exec "$PY" -m tests.topology "$@"
