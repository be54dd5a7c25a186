"""Running one claimed job: the same code path as the matching command (``verifier verify``
for a manifest, ``verifier debian SRC=VER``, ``verifier pypi NAME==VER``), with the worker's
settings; the report comes back as the bytes to store. Runners are plain data
(``RUNNERS``: kind -> function).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from dataclasses import dataclass

from verifier.cache import ContentCache
from verifier.debian.run import DebianRequest, verify_debian
from verifier.errors import InputError
from verifier.farm.ledger import Verified
from verifier.farm.models import JobKind
from verifier.pipeline import VerifyOptions, verify
from verifier.pypi.run import PypiOptions, verify_pypi
from verifier.report.codec import report_bytes
from verifier.report.model import Report
from verifier.sandbox.backends import open_sandbox
from verifier.sandbox.podman import Podman
from verifier.settings import Settings



@dataclass(frozen=True)
class RunnerOptions:
    """What a worker's command line says about each kind (the job itself names only its input)."""

    debian_archive: str | None = None  # default: this machine's apt sources
    debian_suite: str = "bookworm"
    pypi_index_url: str | None = None  # default: pip's own default index


Runner = Callable[[str, Settings, Path, RunnerOptions], Verified]


def verified(report: Report) -> Verified:
    return Verified(verdict=report.verdict.value, release_name=report.release.name,
                    release_version=report.release.version, report=report_bytes(report),
                    timings={k: float(v) for k, v in report.timings.items()})


def run_manifest(location: str, settings: Settings, run_dir: Path, options: RunnerOptions) -> Verified:
    """``verifier verify LOCATION`` (defaults: no normalisers, explain differences)."""
    outcome = verify(location, settings, open_sandbox(settings), ContentCache(settings.cache_dir),
                     VerifyOptions(report_path=run_dir / "report.json"))
    return verified(outcome.report)


def run_debian(target: str, settings: Settings, run_dir: Path, options: RunnerOptions) -> Verified:
    """``verifier debian SRC=VERSION [--archive A] [--suite S]``."""
    request = DebianRequest(target, None, archive=options.debian_archive, suite=options.debian_suite)
    outcome = verify_debian(request, settings, ContentCache(settings.cache_dir), open_sandbox(settings),
                            Podman.from_settings(settings), VerifyOptions(report_path=run_dir / "report.json"))
    return verified(outcome.report)


def run_pypi(requirement: str, settings: Settings, run_dir: Path, options: RunnerOptions) -> Verified:
    """``verifier pypi NAME==VERSION [--index-url U]``."""
    request = PypiOptions(requirement=requirement, index_url=options.pypi_index_url,
                          report_path=run_dir / "report.json")
    outcome = verify_pypi(request, settings, open_sandbox(settings), ContentCache(settings.cache_dir))
    return verified(outcome.report)


RUNNERS: dict[str, Runner] = {
    JobKind.MANIFEST.value: run_manifest,
    JobKind.DEBIAN.value: run_debian,
    JobKind.PYPI.value: run_pypi,
}


def run_job(kind: str, text: str, settings: Settings, run_dir: Path, time_limit: float,
            options: RunnerOptions = RunnerOptions()) -> Verified:
    """Run one job; the build's own time limit is the job's (the sandbox stops it there), and
    the job's manifest URL is under the address policy like every other URL."""
    limits = dataclasses.replace(settings.sandbox, build_timeout=min(settings.sandbox.build_timeout, time_limit))
    # the submitter is not on this machine: the manifest URL it named gets no loopback or
    # private address either, unless the worker was started with --allow-private-addresses
    fetch = dataclasses.replace(settings.fetch, manifest_url_may_be_private=False)
    settings = dataclasses.replace(settings, work_dir=run_dir / "work", sandbox=limits, fetch=fetch)
    runner = RUNNERS.get(kind)
    if runner is None:
        raise InputError(f"job kind {kind!r}: unknown (manifest, debian or pypi)")
    return runner(text, settings, run_dir, options)
