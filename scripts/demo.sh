#!/usr/bin/env bash
# The main job on the bundled example: set up, build a Debian environment, publish the
# example release, serve it on 127.0.0.1 and verify it from that URL.
# Everything it writes goes under demo-out/ (delete it to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=demo-out
mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000

env_archive="$out/debian-bookworm-build-env.tar.zst"
if [ ! -s "$env_archive" ]; then
  echo "demo: building the Debian build environment with mmdebstrap (about a minute)…"
  scripts/make-debian-env.sh "$env_archive" gcc,libc6-dev,make
fi

src="$out/hello-1.0.tar.gz"
tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner \
    -C fixtures/example-release -cf - hello-1.0 | gzip -n -9 > "$src"

echo "demo: publishing the example release (the official build, in the sandbox)…"
rm -rf "$out/published"
.venv/bin/verifier publish --name hello --version 1.0 \
    --env "$env_archive" --source "$src" \
    --build 'make -C hello-1.0 dist' --output 'hello-1.0/dist/*' \
    --source-date-epoch $SOURCE_DATE_EPOCH \
    --cache-dir "$out/publisher-cache" --work-dir "$out/publisher-work" --out "$out/published"

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python -m http.server --bind 127.0.0.1 --directory "$out/published" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/release.json" >/dev/null && break; sleep 0.1; done

echo "demo: verifying http://127.0.0.1:$port/release.json as a third party (fresh cache)…"
rm -rf "$out/verifier-cache" "$out/work"
set +e
.venv/bin/verifier verify "http://127.0.0.1:$port/release.json" \
    --cache-dir "$out/verifier-cache" --work-dir "$out/work"
code=$?
set -e
echo
echo "demo: verify exited with $code (docs/exit-codes.md). hello-1.0.tar.gz is expected to be"
echo "      IDENTICAL and hello-1.0-stamped.tar.gz DIFFERENT (it embeds the build time), so the"
echo "      release's verdict is DIFFERENT (exit 1)."
[ "$code" -eq 1 ] || { echo "demo: unexpected exit code $code" >&2; exit 1; }
