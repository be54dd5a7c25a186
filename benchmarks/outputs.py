#!/usr/bin/env python3
"""Benchmark: peak memory of `verifier verify` when the build leaves many output files.

A busybox build writes N small files into out/ (the release lists one of them), so the
rest are EXTRA outputs: each is collected, hashed, compared by digest and written into
the JSON report. The verify command runs in its own process; its peak resident memory is
read from the kernel (ru_maxrss of the child). Issue 14 (defect 11) measured 788 MiB for a
build with many outputs; the goal is under 300 MB whatever the outputs.

    /work/main/.venv/bin/python benchmarks/outputs.py [--files 20000] [--format text]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import _busybox_rootfs  # noqa: E402  (the same tiny rootfs the tests use)

LIMIT_MB = 300


def make_release(tmp: Path, files: int) -> Path:
    rootfs = _busybox_rootfs(tmp)
    first = b"0\n"
    build = f"mkdir -p out && i=0; while [ $i -lt {files} ]; do echo $i > out/f$i.txt; i=$((i+1)); done"
    (tmp / "f0.txt").write_bytes(first)

    def pin(path: Path, **extra: object) -> dict:
        data = path.read_bytes()
        return {"name": path.name, "url": path.name, "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data), **extra}

    doc = {"manifest_version": 1, "name": "many-outputs", "version": "1",
           "environment": pin(rootfs, format="rootfs"), "lockfile": None, "sources": [],
           "build": {"command": build, "workdir": "/build/src", "outputs": ["out/*"],
                     "source_date_epoch": 0, "variables": {}},
           "artifacts": [pin(tmp / "f0.txt")]}
    (tmp / "release.json").write_text(json.dumps(doc))
    return tmp / "release.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--format", default="text", help="summary format printed by verify")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="verifier-bench-outputs-") as name:
        tmp = Path(name)
        manifest = make_release(tmp, args.files)
        argv = [sys.executable, "-c", "import sys; from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))", "verify", str(manifest), "--cache-dir", str(tmp / "cache"),
                "--work-dir", str(tmp / "work"), "--report", str(tmp / "report.json"), "--format", args.format]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seconds = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
        if not (tmp / "report.json").exists():
            print(done.stderr.decode(errors="replace")[-2000:])
            return 2
        report = json.loads((tmp / "report.json").read_text())
    extra = sum(1 for a in report["artifacts"] if a["status"] == "EXTRA")
    print(f"{args.files} output files: verify exit {done.returncode}, verdict {report['verdict']}, "
          f"{extra} extra artifacts in the JSON report, {len(done.stdout)} bytes on stdout, {seconds:.1f} s")
    print(f"peak resident memory of verify: {peak_mb:.0f} MB (limit {LIMIT_MB} MB)")
    return 0 if peak_mb < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
