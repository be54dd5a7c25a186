"""Running one claimed job: the same code path as the matching command (``verifier verify``
for a manifest), with the worker's settings; the report comes back as the bytes to store.

Runners are plain data (``RUNNERS``: kind -> function), so ``debian`` and ``pypi`` join by
adding a row when their commands exist; until then a job of that kind fails with a message
that says so (never retried: another delivery would not change it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from verifier.cache import ContentCache
from verifier.errors import InputError
from verifier.farm.ledger import Verified
from verifier.farm.models import JobKind
from verifier.pipeline import VerifyOptions, verify
from verifier.report.codec import report_bytes
from verifier.report.model import Report
from verifier.sandbox.backends import open_sandbox
from verifier.settings import Settings

Runner = Callable[[str, Settings, Path], Verified]


def verified(report: Report) -> Verified:
    return Verified(verdict=report.verdict.value, release_name=report.release.name,
                    release_version=report.release.version, report=report_bytes(report),
                    timings={k: float(v) for k, v in report.timings.items()})


def run_manifest(location: str, settings: Settings, run_dir: Path) -> Verified:
    """``verifier verify LOCATION`` (defaults: no normalisers, explain differences)."""
    outcome = verify(location, settings, open_sandbox(settings), ContentCache(settings.cache_dir),
                     VerifyOptions(report_path=run_dir / "report.json"))
    return verified(outcome.report)


def _not_yet(kind: JobKind) -> Runner:
    def refuse(text: str, settings: Settings, run_dir: Path) -> Verified:
        raise InputError(f"{kind.value} job {text!r}: this worker's verifier has no 'verifier {kind.value}' command yet")
    return refuse


RUNNERS: dict[str, Runner] = {
    JobKind.MANIFEST.value: run_manifest,
    JobKind.DEBIAN.value: _not_yet(JobKind.DEBIAN),
    JobKind.PYPI.value: _not_yet(JobKind.PYPI),
}


def run_job(kind: str, text: str, settings: Settings, run_dir: Path, time_limit: float) -> Verified:
    """Run one job; the build's own time limit is the job's (the sandbox stops it there)."""
    limits = dataclasses.replace(settings.sandbox, build_timeout=min(settings.sandbox.build_timeout, time_limit))
    settings = dataclasses.replace(settings, work_dir=run_dir / "work", sandbox=limits)
    runner = RUNNERS.get(kind)
    if runner is None:
        raise InputError(f"job kind {kind!r}: unknown (manifest, debian or pypi)")
    return runner(text, settings, run_dir)
