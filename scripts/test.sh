#!/usr/bin/env bash
# Run the whole test suite (sets up first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export VERIFIER_REQUIRE_TOOLS=1   # a missing tool (podman, …) fails tests instead of skipping them
exec .venv/bin/python -m pytest "$@"
