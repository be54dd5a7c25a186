#!/usr/bin/env python3
"""Benchmark: `verifier env build` vs a bare `mmdebstrap … | zstd` of the same pinned list,
and `verifier env check` of the result, in one run (interleaved, N rounds); then the
rebuild `verify --rebuild-env` runs, with a cold and a warm package cache.

    .venv/bin/python benchmarks/env.py [--packages build-essential=12.9] [--rounds 2] [--allow-private-addresses]

`verify --rebuild-env` adds exactly one step to verify, the environment check
(verifier/environments/step.py → check.py, the same code as `env check`); its package
cache is verify's --cache-dir. "cold" and "warm" below are `env check --cache-dir C` run
twice on a fresh C: the second takes every .deb from the cache the first filled.

The bare reference is what scripts/make-debian-env.sh does: minbase, the same --include,
the same SOURCE_DATE_EPOCH, zstd -6 -T1. `env build` adds the signed-chain checks (gpgv,
Packages index), reading the archive as data for the normalisation rules and the lock.
Both download every package from the mirror (no package cache is kept between builds).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EPOCH = "1700000000"
CLI = "import sys; from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))"


def timed(argv: list[str], **kwargs: object) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - t0


def verifier(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


def bare(packages: str, out: Path, mirror: str) -> float:
    include = ",".join(p.strip() for p in packages.split(","))
    script = (f"mmdebstrap --variant=minbase --quiet --include={include} --format=tar bookworm {out}.tar {mirror}"
              f" && zstd -q -6 -T1 -f {out}.tar -o {out} && rm {out}.tar")
    return timed(["bash", "-c", script], env={"SOURCE_DATE_EPOCH": EPOCH, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", default="build-essential=12.9")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--allow-private-addresses", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from verifier.environments.build import system_archive

    mirror = system_archive()
    private = ["--allow-private-addresses"] if args.allow_private_addresses else []
    with tempfile.TemporaryDirectory(prefix="bench-env-") as tmp:
        base = Path(tmp)
        for i in range(args.rounds):
            ours_out, bare_out = base / f"ours{i}" / "env.tar.zst", base / f"bare{i}.tar.zst"
            order = ("ours", "bare") if i % 2 == 0 else ("bare", "ours")
            times: dict[str, float] = {}
            for which in order:
                if which == "ours":
                    times[which] = timed(verifier("env", "build", "--packages", args.packages, "--source-date-epoch",
                                                  EPOCH, "--out", str(ours_out), "--work-dir", str(base / "work"),
                                                  *private))
                else:
                    times[which] = bare(args.packages, bare_out, mirror)
            check = timed(verifier("env", "check", str(ours_out), str(ours_out.with_name("env.lock.json")),
                                   "--work-dir", str(base / "work"), *private))
            cached = [timed(verifier("env", "check", str(ours_out), str(ours_out.with_name("env.lock.json")),
                                     "--work-dir", str(base / "work"), "--cache-dir", str(base / f"cache{i}"),
                                     *private)) for _ in ("cold", "warm")]
            size = ours_out.stat().st_size >> 20
            print(f"round {i + 1}: env build {times['ours']:.1f} s, bare mmdebstrap+zstd {times['bare']:.1f} s "
                  f"(ratio {times['ours'] / times['bare']:.2f}); env check {check:.1f} s; {size} MiB; "
                  f"sha256 ours {digest(ours_out)} bare {digest(bare_out)}; rebuild-env check with a package "
                  f"cache: cold {cached[0]:.1f} s, warm {cached[1]:.1f} s", flush=True)


if __name__ == "__main__":
    main()
