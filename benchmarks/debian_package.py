#!/usr/bin/env python3
"""Benchmark: `verifier debian` against the same dpkg-buildpackage run by hand in the same
image, in the same run; and a table of verdicts for several packages.

    .venv/bin/python benchmarks/debian_package.py [PKG[=VERSION]] [--allow-private-addresses]
    .venv/bin/python benchmarks/debian_package.py --table hello dh-python … [--allow-private-addresses]

One package: (1) `verifier debian` with an empty cache (the environment is built, the
build dependencies resolved: "cold"); (2) again with the same cache and a new work dir
(the environment archive is reused by its lockfile's digest and podman reuses the image:
"warm"); (3) the reference: in that same podman image, with the network off, the build
dependencies installed by hand from the same local repository (`apt-get install` of the
lockfile's packages), then `dpkg-source -x` and `dpkg-buildpackage -rfakeroot` with the
same flags. The overhead is warm / reference - 1 (what verifier adds: fetching and checking
the signed chain and every pin, the sandbox set-up, the comparison and the report).

--table: `verifier debian` for each package with one shared cache: verdict, time, the
first reason and the first hint of the report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from verifier.sandbox.runtime import ulimit_flags  # noqa: E402  (the same limits as the sandbox)
from verifier.settings import Settings  # noqa: E402
CLI = "import sys; sys.path.insert(0, sys.argv.pop(1)); from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))"


def verifier_debian(package: list[str], cache: Path, work: Path, private: bool) -> tuple[float, int, dict]:
    argv = [sys.executable, "-c", CLI, str(ROOT), "debian", *package, "--cache-dir", str(cache),
            "--work-dir", str(work), "--output", str(work / "summary.txt")]
    argv += ["--allow-private-addresses"] if private else []
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    reports = sorted(work.glob("*/report.json"))
    report = json.loads(reports[0].read_text()) if reports else {}
    report["error"] = " ".join(done.stderr.strip().splitlines()[-2:])[-300:]
    return seconds, done.returncode, report


def reference(report: dict, cache: Path, work: Path) -> float:
    """The same build by hand: same image, same packages (from the run's local repository), same flags."""
    run_dir = Path(report["build"]["log"]).parents[2] / f"{report['release']['name']}-{report['release']['version']}"
    release = json.loads((run_dir / "release.json").read_text())
    lock = json.loads((run_dir / "lock.json").read_text())
    src = work / "ref-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for s in release["sources"]:
        shutil.copyfile(cache / "sha256" / s["sha256"][:2] / s["sha256"], src / s["name"])
    wanted = " ".join(shlex.quote(f"{p['name']}:{p['architecture']}={p['version']}" if p["architecture"] != "all"
                                  else f"{p['name']}={p['version']}") for p in lock["packages"])
    command = release["build"]["command"].replace("/verifier/meta/kept", "/tmp/kept")
    script = "\n".join([
        "set -e", "echo 'deb [trusted=yes] file:/repo ./' > /tmp/sources.list",
        "apt-get -o Dir::Etc::SourceList=/tmp/sources.list -o Dir::Etc::SourceParts=/nonexistent -o APT::Sandbox::User=root -q update > /dev/null",
        f"apt-get -o Dir::Etc::SourceList=/tmp/sources.list -o Dir::Etc::SourceParts=/nonexistent -o APT::Sandbox::User=root -y -q --no-install-recommends --allow-downgrades install {wanted} > /dev/null",
        f"mkdir -p {release['build']['workdir']} && cp /src/* {release['build']['workdir']}/ && cd {release['build']['workdir']}",
        f"export SOURCE_DATE_EPOCH={release['build']['source_date_epoch']} LC_ALL=C.UTF-8 TZ=UTC", "umask 022",
        command])
    (work / "ref.sh").write_text(script)
    name = f"verifier-bench-{secrets.token_hex(4)}"
    argv = ["podman", "--runtime", report["environment"]["runtime"]["name"], "run", "--rm", "--name", name,
            "--network=none", "--mount", f"type=bind,source={run_dir / 'repository'},destination=/repo,readonly=true",
            "--mount", f"type=bind,source={src},destination=/src,readonly=true",
            "--mount", f"type=bind,source={work / 'ref.sh'},destination=/ref.sh,readonly=true",
            *ulimit_flags(Settings()), "--entrypoint", "/bin/sh", report["environment"]["image"], "/ref.sh"]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def first_hint(report: dict) -> str:
    """The first of the auditor's hints anywhere in a differing artifact's tree."""
    def walk(node: dict) -> str:
        if node.get("hints"):
            return str(node["hints"][0])[:140]
        for child in node.get("details") or []:
            found = walk(child)
            if found:
                return found
        return ""
    for artifact in report.get("artifacts", []):
        found = walk(artifact.get("difference") or {})
        if found:
            return found
    return ""


def one(package: str, private: bool, keep: Path | None, rounds: int) -> None:
    with (tempfile.TemporaryDirectory(prefix="bench-debian-") if keep is None else _kept(keep)) as tmp:
        cache = Path(tmp) / "cache"
        cold, code, report = verifier_debian([package], cache, Path(tmp) / "cold", private)
        warm, ref, inside = [], [], []
        for i in range(rounds):  # interleaved, so both see the same machine load
            seconds, code2, report2 = verifier_debian([package], cache, Path(tmp) / f"warm{i}", private)
            warm.append(seconds)
            inside.append(report2.get("timings", {}).get("total", 0.0))
            ref.append(reference(report2, cache, Path(tmp) / f"ref{i}"))
        print(f"{package}: verdict {report.get('verdict')} (exit {code}/{code2})")
        print(f"  verifier debian, empty cache:           {cold:7.1f} s")
        print(f"  verifier debian, environment reused:    {min(warm):7.1f} s  (all: {', '.join(f'{w:.1f}' for w in warm)};"
              f" of which the verify pipeline {min(inside):.1f} s)")
        print(f"  by hand in the same image (deps+build): {min(ref):7.1f} s  (all: {', '.join(f'{r:.1f}' for r in ref)})")
        print(f"  overhead (best reused / best by hand - 1): {100 * (min(warm) / min(ref) - 1):6.1f} %")


@contextlib.contextmanager
def _kept(path: Path) -> Iterator[str]:
    path.mkdir(parents=True, exist_ok=True)
    yield str(path)


def table(packages: list[str], private: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-debian-") as tmp:
        cache = Path(tmp) / "cache"
        print("| package | verdict | exit | time (s) | first reason | hint |\n| --- | --- | ---: | ---: | --- | --- |")
        for package in packages:
            seconds, code, report = verifier_debian([package], cache, Path(tmp) / package.replace("=", "_"), private)
            reason = (report.get("reasons") or [report.get("error", "")])[0][:120]
            if code not in (0, 1, 3):
                reason += f" [exit {code}: {report.get('error', '')[-160:]}]"
            print(f"| {package} | {report.get('verdict', '-')} | {code} | {seconds:.0f} | {reason} | {first_hint(report)} |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("packages", nargs="*", default=["dh-python=5.20230130+deb12u1"])
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--allow-private-addresses", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="use (and keep) this directory instead of a temporary one")
    args = parser.parse_args()
    if args.table:
        table(args.packages, args.allow_private_addresses)
    else:
        one(args.packages[0], args.allow_private_addresses, args.keep, args.rounds)


if __name__ == "__main__":
    main()
