#!/usr/bin/env python3
"""Benchmark: `verifier compare` vs a reference hash of both inputs and vs diffoscope.

Builds a synthetic corpus and, in one run, times for each pair: our compare (in a child
process, with its peak RSS), the reference (`openssl dgst -sha256` of both files, which
uses the CPU's SHA instructions; for compressed archives: decompress both and hash), and
diffoscope (with a time limit). Prints ratios and whether the planted changes were found.

    .venv/bin/python benchmarks/compare.py [--scale 1.0] [--diffoscope-timeout 120] [--only NAME]

--scale 1.0 is the issue's corpus (a 1 GiB identical pair, a ~540 MB tar of 20,500
members with 4 changes, a ~100 MB tar.gz with 2 changes, a ~40 MB .deb pair, a 32 MB
wheel pair, a 1 GiB binary pair with a few differing bytes); use 0.1 for a quick run.
Each line also says which planted differences a report failed to name ("missed").
diffoscope is the one beside this interpreter (pip's, 332 as in the issue), else PATH's.
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Pair:
    name: str
    a: Path
    b: Path
    reference: str  # "hash", "gunzip" or "deb": what the reference does to both sides
    planted: tuple[str, ...]  # strings a report that found every planted difference contains


def wheel(path: Path, scale: float, stamp: tuple[int, ...], changed: int | None) -> None:
    rng = random.Random(4)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(400):
            body = rng.randbytes(int(80_000 * scale) + 10)
            if i == changed:
                body = body[:-1] + b"!"
            z.writestr(zipfile.ZipInfo(f"pkg/m{i:03d}.py", stamp), body)


def deb(tmp: Path, out: Path, scale: float, planted: list[str]) -> None:
    root = tmp / f"{out.stem}-root"
    make_tree(root / "usr" / "share" / "bench", max(int(2000 * scale), 20), int(40e6 * scale), 5)
    plant(root / "usr" / "share" / "bench", planted)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text("Package: bench\nVersion: 1.0\nArchitecture: all\n"
                                              "Maintainer: Bench <bench@example.org>\nDescription: benchmark\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                   check=True, stdout=subprocess.DEVNULL, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    shutil.rmtree(root)


def corpus(tmp: Path, scale: float) -> list[Pair]:
    gib = int((1 << 30) * scale)
    a = tmp / "ident-a.bin"
    random_file(a, gib, 1)
    shutil.copyfile(a, tmp / "ident-b.bin")
    pairs = [Pair("identical-1GiB", a, tmp / "ident-b.bin", "hash", ())]
    offsets = [gib // 3, gib // 2, gib - 10]
    flip_bytes(a, tmp / "bin-b.bin", offsets)
    pairs.append(Pair("binary-1GiB-3-bytes", a, tmp / "bin-b.bin", "hash", tuple(f"0x{o:x}" for o in offsets)))
    members = max(int(20500 * scale), 100)
    tree = tmp / "tree"
    make_tree(tree, members, int(540e6 * scale), 2)
    tar_dir(tree, tmp / "big-a.tar")
    changed = [f"d000/f{i:05d}.txt" for i in (1, 2)] + [f"d{(members - 1) // 500:03d}/f{members - 1:05d}.txt"]
    plant(tree, changed)
    (tree / "d000" / "f00003.txt").unlink()
    tar_dir(tree, tmp / "big-b.tar")
    pairs.append(Pair(f"tar-{members}-members-4-changes", tmp / "big-a.tar", tmp / "big-b.tar", "hash",
                      (*changed, "d000/f00003.txt")))
    shutil.rmtree(tree)
    small = tmp / "small"
    make_tree(small, max(int(5000 * scale), 50), int(100e6 * scale), 3)
    tar_dir(small, tmp / "s-a.tar.gz", "gzip")
    plant(small, ["d000/f00001.txt", "d000/f00010.txt"])
    tar_dir(small, tmp / "s-b.tar.gz", "gzip")
    pairs.append(Pair("tar.gz-2-changes", tmp / "s-a.tar.gz", tmp / "s-b.tar.gz", "gunzip",
                      ("d000/f00001.txt", "d000/f00010.txt")))
    shutil.rmtree(small)
    deb(tmp, tmp / "a.deb", scale, [])
    deb(tmp, tmp / "b.deb", scale, ["d000/f00005.txt"])
    pairs.append(Pair("deb-1-change", tmp / "a.deb", tmp / "b.deb", "deb", ("d000/f00005.txt",)))
    # A wheel rebuilt an hour later without SOURCE_DATE_EPOCH: every timestamp and one module differ.
    wheel(tmp / "w-a.whl", scale, (2023, 11, 14, 0, 0, 0), None)
    wheel(tmp / "w-b.whl", scale, (2023, 11, 14, 1, 0, 0), 7)
    pairs.append(Pair("wheel-1-change-400-timestamps", tmp / "w-a.whl", tmp / "w-b.whl", "hash",
                      ("pkg/m007.py",)))
    return pairs


REFERENCES = {
    "hash": "openssl dgst -sha256 {a} & openssl dgst -sha256 {b}; wait",
    "gunzip": "(gzip -dc {a} | openssl dgst -sha256) & (gzip -dc {b} | openssl dgst -sha256); wait",
    "deb": "(dpkg-deb --fsys-tarfile {a} | openssl dgst -sha256) & (dpkg-deb --fsys-tarfile {b} | openssl dgst -sha256); wait",
}


def reference(pair: Pair) -> float:
    seconds, _ = timed(["bash", "-c", REFERENCES[pair.reference].format(a=pair.a, b=pair.b)])
    return seconds or 0.0


def missed(report: Path, planted: tuple[str, ...]) -> list[str]:
    """The planted differences a report does not name (read as text: both tools write JSON)."""
    if not report.exists():
        return list(planted)
    text = report.read_text(errors="replace")
    return [needle for needle in planted if needle not in text]


def run_pair(pair: Pair, tmp: Path, diffoscope_timeout: float) -> str:
    ref = reference(pair)
    report, theirs_report = tmp / "report.json", tmp / "d.json"
    for old in (report, theirs_report):
        old.unlink(missing_ok=True)
    ours, rss = timed([str(VENV_BIN / "verifier"), "compare", str(pair.a), str(pair.b), "--format", "json",
                       "--output", str(report)])
    report_kb = report.stat().st_size // 1024
    line = (f"{pair.name}: reference {ref:.2f}s, verifier {ours:.2f}s ({ours / max(ref, 1e-3):.1f}x ref, "
            f"peak {rss} MB, report {report_kb} KB, missed {missed(report, pair.planted) or 'nothing'}), ")
    tool = shutil.which("diffoscope", path=str(VENV_BIN)) or shutil.which("diffoscope")
    if tool is None:
        return line + "diffoscope not installed"
    theirs, theirs_rss = timed([tool, "--json", str(theirs_report), str(pair.a), str(pair.b)],
                               timeout=diffoscope_timeout)
    if theirs is None:
        return line + f"diffoscope > {diffoscope_timeout:.0f}s (killed)"
    theirs_kb = theirs_report.stat().st_size // 1024 if theirs_report.exists() else 0
    return line + (f"diffoscope {theirs:.1f}s ({theirs / ours:.0f}x slower than verifier, peak {theirs_rss} MB, "
                   f"report {theirs_kb} KB, missed {missed(theirs_report, pair.planted) or 'nothing'})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--diffoscope-timeout", type=float, default=120)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verifier-compare-bench-"))
    try:
        tool = shutil.which("diffoscope", path=str(VENV_BIN)) or shutil.which("diffoscope")
        version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip() if tool else "-"
        print(f"reference: openssl dgst -sha256 of both sides in parallel; {version}", flush=True)
        for pair in corpus(tmp, args.scale):
            if not args.only or args.only in pair.name:
                print(run_pair(pair, tmp, args.diffoscope_timeout), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
