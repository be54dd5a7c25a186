#!/usr/bin/env python3
"""Benchmark: `verifier compare` vs a reference hash of both inputs and vs diffoscope.

Builds a synthetic corpus and, in one run, times for each pair: our compare (in a child
process, with its peak RSS), the reference (`openssl dgst -sha256` of both files, which
uses the CPU's SHA instructions; for compressed archives: decompress both and hash), and
diffoscope (with a time limit). Prints ratios and whether the planted changes were found.

    .venv/bin/python benchmarks/compare.py [--scale 1.0] [--diffoscope-timeout 120] [--only NAME]

--scale 1.0 is the issue's corpus (a 1 GiB identical pair, a ~540 MB tar of 20,500
members with 4 changes, a ~100 MB tar.gz with 2 changes, a 32 MB wheel pair, a 1 GiB
binary pair with a few differing bytes); use 0.1 for a quick run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


MEASURE = ("import resource, subprocess, sys\n"
           "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def timed(argv: list[str], timeout: float | None = None) -> tuple[float | None, int]:
    """Wall seconds (None on timeout) and the command's own peak RSS in MB (via a fresh wrapper)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", MEASURE, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # only this command's own process group
        proc.communicate()
        return None, 0
    seconds = time.perf_counter() - t0
    return seconds, int(out.strip() or 0) // 1024


def random_file(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.randbytes(n))
            left -= n


def flip_bytes(src: Path, dest: Path, offsets: list[int]) -> None:
    shutil.copyfile(src, dest)
    with open(dest, "r+b") as f:
        for off in offsets:
            f.seek(off)
            byte = f.read(1)
            f.seek(off)
            f.write(bytes([byte[0] ^ 0xFF]))


def make_tree(root: Path, members: int, total: int, seed: int) -> None:
    rng = random.Random(seed)
    size = max(total // members, 1)
    for i in range(members):
        path = root / f"d{i // 500:03d}" / f"f{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        os.utime(path, (1700000000, 1700000000))


def tar_dir(root: Path, out: Path, compress: str = "") -> None:
    flags = ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@1700000000"]
    plain = out.with_suffix(".plain") if compress else out
    subprocess.run(["tar", *flags, "-C", str(root), "-cf", str(plain), "."], check=True)
    if compress:
        with open(out, "wb") as f:
            subprocess.run(["gzip", "-n", "-c", str(plain)], stdout=f, check=True)
        plain.unlink()


def plant(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


def corpus(tmp: Path, scale: float) -> list[tuple[str, Path, Path, str]]:
    """(name, a, b, reference kind) for each pair."""
    gib = int((1 << 30) * scale)
    pairs = []
    a = tmp / "ident-a.bin"
    random_file(a, gib, 1)
    shutil.copyfile(a, tmp / "ident-b.bin")
    pairs.append(("identical-1GiB", a, tmp / "ident-b.bin", "hash"))
    flip_bytes(a, tmp / "bin-b.bin", [gib // 3, gib // 2, gib - 10])
    pairs.append(("binary-1GiB-3-bytes", a, tmp / "bin-b.bin", "hash"))
    members = max(int(20500 * scale), 100)
    tree = tmp / "tree"
    make_tree(tree, members, int(540e6 * scale), 2)
    tar_dir(tree, tmp / "big-a.tar")
    plant(tree, [f"d000/f{i:05d}.txt" for i in (1, 2)] + [f"d{(members - 1) // 500:03d}/f{members - 1:05d}.txt"])
    (tree / "d000" / "f00003.txt").unlink()
    tar_dir(tree, tmp / "big-b.tar")
    pairs.append((f"tar-{members}-members-4-changes", tmp / "big-a.tar", tmp / "big-b.tar", "hash"))
    small = tmp / "small"
    make_tree(small, max(int(5000 * scale), 50), int(100e6 * scale), 3)
    tar_dir(small, tmp / "s-a.tar.gz", "gzip")
    plant(small, ["d000/f00001.txt", "d000/f00010.txt"])
    tar_dir(small, tmp / "s-b.tar.gz", "gzip")
    pairs.append(("tar.gz-2-changes", tmp / "s-a.tar.gz", tmp / "s-b.tar.gz", "gunzip"))
    for side, seed in (("a", 4), ("b", 4)):
        rng = random.Random(seed)
        with zipfile.ZipFile(tmp / f"w-{side}.whl", "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(400):
                body = rng.randbytes(int(80_000 * scale) + 10)
                if side == "b" and i == 7:
                    body = body[:-1] + b"!"
                z.writestr(zipfile.ZipInfo(f"pkg/m{i:03d}.py", (2023, 11, 14, 0, 0, 0)), body)
    pairs.append(("wheel-1-change", tmp / "w-a.whl", tmp / "w-b.whl", "hash"))
    return pairs


def reference(kind: str, a: Path, b: Path) -> float:
    if kind == "gunzip":
        cmd = f"(gzip -dc {a} | openssl dgst -sha256) & (gzip -dc {b} | openssl dgst -sha256); wait"
    else:
        cmd = f"openssl dgst -sha256 {a} & openssl dgst -sha256 {b}; wait"
    seconds, _ = timed(["bash", "-c", cmd])
    return seconds or 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--diffoscope-timeout", type=float, default=120)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verifier-compare-bench-"))
    try:
        rows = []
        for name, a, b, kind in corpus(tmp, args.scale):
            if args.only and args.only not in name:
                continue
            ref = reference(kind, a, b)
            ours, rss = timed([str(VENV_BIN / "verifier"), "compare", str(a), str(b), "--format", "json",
                                  "--output", str(tmp / "report.json")])
            report_kb = (tmp / "report.json").stat().st_size // 1024
            theirs, theirs_rss = (timed(["diffoscope", "--json", str(tmp / "d.json"), str(a), str(b)],
                                        timeout=args.diffoscope_timeout) if shutil.which("diffoscope") else (None, 0))
            rows.append((name, ref, ours, rss, report_kb, theirs, theirs_rss))
            print(f"{name}: reference {ref:.2f}s, verifier {ours:.2f}s ({ours / max(ref, 1e-3):.1f}x ref, "
                  f"peak {rss} MB, report {report_kb} KB), diffoscope "
                  + (f"{theirs:.1f}s ({theirs / ours:.0f}x slower than verifier)" if theirs else
                     f"> {args.diffoscope_timeout:.0f}s (killed)"), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
