#!/usr/bin/env python3
"""Benchmark: `verifier pypi` for one release, cold and warm cache, against a bare
`python -m build --wheel --no-isolation` of the same sdist in the same image, same run.

cold: an empty cache and work directory (the Debian python3 environment is built, the index
read, every file downloaded, the build packages resolved); warm: the same cache again (online:
the index page is read again; offline: nothing is). The bare build runs in the image verifier
imported, with the same locked wheels plus `build` installed the same way (pip from its wheel,
--no-index), network off: verifier's overhead is warm minus bare.

    .venv/bin/python benchmarks/pypi.py [--release iniconfig==2.0.0] [--runs 3] [--allow-private-addresses]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from verifier.cache import ContentCache  # noqa: E402
from verifier.cli.app import run  # noqa: E402
from verifier.pypi.index import default_index_url  # noqa: E402
from verifier.pypi.resolve import resolve  # noqa: E402
from verifier.pypi.run import INSTALLER  # noqa: E402
from verifier.sandbox.podman import Podman  # noqa: E402
from verifier.sandbox.runtime import choose_runtime, ulimit_flags  # noqa: E402
from verifier.settings import FetchLimits, Settings  # noqa: E402

BUILD_FRONTEND = ("build==1.2.2",)  # what the bare build adds: pypa/build and its dependencies


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def pypi(release: str, cache: Path, work: Path, private: bool, *extra: str) -> None:
    args = ["pypi", release, "--cache-dir", str(cache), "--work-dir", str(work), "--format", "json",
            "--output", str(work / "summary.json"), *(["--allow-private-addresses"] if private else []), *extra]
    code = run(args)
    assert code in (0, 1), f"verifier pypi exited {code}"


def bare_command(tmp: Path, report: dict, settings: Settings) -> list[str]:
    """podman run of `python -m build --wheel --no-isolation` on the same sdist, same image."""
    bare = tmp / "bare"
    (bare / "wheels").mkdir(parents=True)
    cache = ContentCache(settings.cache_dir)
    installer = None
    for package in report["pypi"]["build_packages"]:  # the same wheels, from the cache, pip apart
        name = package["file"]["url"].rsplit("/", 1)[-1]
        target = bare / name if package["name"] == "pip" else bare / "wheels" / name
        shutil.copy(cache.entry_path(package["file"]["sha256"]), target)
        installer = target if package["name"] == "pip" else installer
    frontend = resolve(BUILD_FRONTEND, None, default_index_url(), settings, cache)
    present = {w.name.split("-")[0].lower() for w in (bare / "wheels").glob("*.whl")}
    for locked in frontend.wheels:  # the release's own build packages win (pip refuses two versions of one)
        if locked.cached.pin.name.split("-")[0].lower() not in present:
            shutil.copy(locked.cached.path, bare / "wheels" / locked.cached.pin.name)
    if installer is None:  # nothing was installed for this release: pip as verifier would resolve it
        installer = resolve((INSTALLER,), None, default_index_url(), settings, cache).wheels[0].cached.path
    sdist = Path(report["inputs"]["sources"][0]["url"].split("/")[-1])
    cached = ContentCache(settings.cache_dir).entry_path(report["inputs"]["sources"][0]["sha256"])
    shutil.copy(cached, bare / sdist.name)
    root = sdist.name.removesuffix(".tar.gz")
    script = (f"python3 /bare/{installer.name}/pip install -q --isolated --no-index --no-deps --target /opt/env "
              f"/bare/wheels/*.whl && mkdir /b && cd /b && tar xzf /bare/{sdist.name} && cd {root} && "
              "PYTHONPATH=/opt/env python3 -m build --wheel --no-isolation > /dev/null")
    if installer.parent != bare:
        shutil.copy(installer, bare / "pip-24.2-py3-none-any.whl")
        installer = bare / "pip-24.2-py3-none-any.whl"
    podman = Podman.from_settings(settings)
    runtime = choose_runtime(podman, settings)
    return ["podman", "--runtime", runtime.name, "run", "--rm", "--network=none", *ulimit_flags(settings),
            "-v", f"{bare}:/bare:ro", report["environment"]["image"], "/bin/sh", "-c", script]


def bare_build(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the bare build failed ({done.returncode}): {done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", default="iniconfig==2.0.0")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--allow-private-addresses", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verifier-bench-pypi-"))
    try:
        cache, work = tmp / "cache", tmp / "work"
        cold = timed(lambda: pypi(args.release, cache, work, args.allow_private_addresses))
        report_path = next(work.glob("*/report.json"))
        report = json.loads(report_path.read_text())
        settings = Settings(cache_dir=cache, work_dir=work,
                            fetch=FetchLimits(allow_private_addresses=args.allow_private_addresses))
        bare = bare_command(tmp, report, settings)
        warm, offline, plain = [], [], []
        for _ in range(args.runs):  # interleaved: the shared machine's load falls on all three alike
            warm.append(timed(lambda: pypi(args.release, cache, work, args.allow_private_addresses)))
            offline.append(timed(lambda: pypi(args.release, cache, work, args.allow_private_addresses, "--offline")))
            plain.append(timed(lambda: bare_build(bare)))
        w, o, b = (statistics.median(x) for x in (warm, offline, plain))
        last = json.loads(report_path.read_text())
        print(f"release: {args.release}, verdict {last['verdict']}, matched policy {last['pypi']['matched_policy']}, "
              f"policies built: {sum(1 for p in last['pypi']['policies'] if p['rebuilt'])}; runs: {args.runs} (medians)")
        print(f"verifier pypi, cold cache (environment built, everything fetched): {cold:.1f} s")
        print(f"verifier pypi, warm cache, online:  {w:.1f} s")
        print(f"verifier pypi, warm cache, offline: {o:.1f} s")
        print(f"bare podman run: pip install of the same wheels + python -m build --wheel --no-isolation: {b:.1f} s")
        print(f"overhead, warm offline minus bare: {o - b:.1f} s ({o / b:.2f}x)")
        print("last warm run's steps:", json.dumps(last["timings"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
