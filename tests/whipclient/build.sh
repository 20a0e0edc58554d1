#!/usr/bin/env bash
# Build the loopback shim for Debian's whip-client into a directory (default:
# build/whipstub under the repository root; build/ is git-ignored).
# Prints the path of the built library. Rebuilds only when stub.c is newer.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-"$here/../../build/whipstub"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
lib="$out/libgupnp-igd-1.0.so.4"
if [[ ! -f "$lib" || "$here/stub.c" -nt "$lib" ]]; then
  gcc -shared -fPIC -O2 -Wall -Wextra -Werror -fvisibility=hidden \
    -Wl,-soname,libgupnp-igd-1.0.so.4 -o "$lib.tmp" "$here/stub.c" -ldl
  mv -f "$lib.tmp" "$lib"
fi
echo "$lib"
