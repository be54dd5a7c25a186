#!/usr/bin/env bash
# Build a bit-identical Debian environment archive with mmdebstrap.
#   scripts/make-debian-env.sh OUT.tar.zst [comma,separated,extra,packages]
# The mirror is read from this machine's apt sources (never hard-coded);
# set MIRROR to override. SOURCE_DATE_EPOCH (default 1700000000) fixes all timestamps.
set -euo pipefail
out=${1:?usage: make-debian-env.sh OUT.tar.zst [packages]}
include=${2:-}
suite=${SUITE:-bookworm}
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
    | grep -E '^(URIs:|deb )' | grep -v -- '-security' | grep -E '/debian/?( |$)' | head -n1 | awk '{print $2}' || true)
fi
[ -n "$MIRROR" ] || { echo "make-debian-env: no Debian mirror found in the apt sources; set MIRROR" >&2; exit 2; }
args=(--variant=minbase --mode=root --quiet)
[ -n "$include" ] && args+=("--include=$include")
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} mmdebstrap "${args[@]}" --format=tar "$suite" - "$MIRROR" | zstd -q -6 > "$tmp"
mv "$tmp" "$out"
