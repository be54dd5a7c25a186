#!/usr/bin/env bash
# Install everything verifier and its tests need on a fresh Debian 12 machine (as root),
# then create .venv with the package. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  podman runc uidmap fuse-overlayfs slirp4netns   # the sandbox
  mmdebstrap debootstrap busybox-static           # build environments
  zstd xz-utils bzip2 gzip cpio libarchive13 libarchive-tools
  squashfs-tools xorriso genisoimage rpm dpkg-dev # formats the auditor reads and tests build
  diffoscope-minimal libmagic1 binutils           # tools behind the diffoscope fallback (pip installs diffoscope itself)
  gnupg                                           # GnuPG report signing (and its tests)
  tzdata                                          # verifier pypi: the time zones a wheel's zip times are checked against
  gpgv debian-archive-keyring                     # the archive's signed chain (env build, verifier debian)
  python3 python3-venv python3-dev gcc make curl openssl ca-certificates git
  chromium                                        # HTML report checks in the tests
  redis-server postgresql                         # verifier farm: the Celery broker, the many-machine database (and their tests)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import verifier, pytest' 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "is ignored" >&2 || true
  .venv/bin/python -c 'import verifier, pytest' && touch .venv/.installed
fi
# Byte-compile once: where PYTHONDONTWRITEBYTECODE is set, every start would compile again.
.venv/bin/python -m compileall -q verifier .venv/lib/python3*/site-packages > /dev/null 2>&1 || true
