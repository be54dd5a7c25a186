#!/usr/bin/env python3
"""Benchmark: `verifier verify` with a warm cache vs a bare `podman run` of the same build.

Both run the same build command in the same busybox image with the same podman flags
that matter (runtime, network none); the difference is verifier's overhead: manifest
parsing, cache re-hashing of every input, source placement, output collection, compare,
report. Hashing is reported separately, against `openssl dgst -sha256` of the same bytes.

    .venv/bin/python benchmarks/verify.py [--runs 5] [--source-mib 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import _busybox_rootfs  # noqa: E402  (the same tiny rootfs the tests use)
from verifier.cli.app import run  # noqa: E402
from verifier.sandbox.podman import Podman  # noqa: E402
from verifier.sandbox.runtime import choose_runtime, ulimit_flags  # noqa: E402
from verifier.settings import Settings  # noqa: E402

BUILD = "mkdir -p out && cat big.bin | md5sum > out/sum.txt && echo done > out/done.txt"


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def make_release(tmp: Path, source_mib: int) -> Path:
    rootfs = _busybox_rootfs(tmp)
    big = tmp / "big.bin"
    with open(big, "wb") as f:
        for _ in range(source_mib):
            f.write(os.urandom(1 << 20))
    out = tmp / "published"
    code = run(["publish", "--name", "bench", "--version", "1", "--env", str(rootfs),
                "--copy-source", str(big), "--build", BUILD, "--output", "out/*",
                "--source-date-epoch", "0", "--out", str(out),
                "--cache-dir", str(tmp / "pcache"), "--work-dir", str(tmp / "pwork")])
    assert code == 0, code
    return out / "release.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source-mib", type=int, default=256)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verifier-bench-"))
    try:
        manifest = make_release(tmp, args.source_mib)
        verify_args = ["verify", str(manifest), "--cache-dir", str(tmp / "vcache"),
                       "--work-dir", str(tmp / "vwork"), "--format", "json", "--output", str(tmp / "o.json")]
        assert run(verify_args) == 0  # cold: fills the cache and imports the image
        report = json.loads((tmp / "vwork" / "bench-1" / "report.json").read_text())
        image = report["environment"]["image"]
        bench = Settings(cache_dir=tmp / "vcache")
        runtime = choose_runtime(Podman.from_settings(bench), bench)
        src_dir = tmp / "bare"
        src_dir.mkdir()
        shutil.copy(tmp / "big.bin", src_dir / "big.bin")
        bare = ["podman", "--runtime", runtime.name, "run", "--rm", "--network=none",
                *ulimit_flags(Settings()),
                "-v", f"{src_dir}:/build/src", "--workdir", "/build/src", image, "/bin/sh", "-c", BUILD]
        warm = [timed(lambda: run(verify_args + ["--offline"])) for _ in range(args.runs)]
        podman = [timed(lambda: subprocess.run(bare, check=True, capture_output=True)) for _ in range(args.runs)]
        openssl = [timed(lambda: subprocess.run(["openssl", "dgst", "-sha256", str(tmp / "big.bin")],
                                                check=True, capture_output=True)) for _ in range(args.runs)]
        w, p, h = statistics.median(warm), statistics.median(podman), statistics.median(openssl)
        print(f"source size: {args.source_mib} MiB, runs: {args.runs} (medians)")
        print(f"verify, warm cache, offline: {w:.3f} s")
        print(f"bare podman run, same build: {p:.3f} s")
        print(f"openssl sha256 of the source: {h:.3f} s")
        print(f"overhead: {w - p:.3f} s ({w / p:.2f}x); overhead minus one hash of the source: {w - p - h:.3f} s")
        warm_report = json.loads((tmp / "vwork" / "bench-1" / "report.json").read_text())
        print("last warm run's steps:", json.dumps(warm_report["timings"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
