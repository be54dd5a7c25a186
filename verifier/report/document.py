"""Build, write and read the versioned JSON verify report (format: docs/report-format.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from verifier import TOOL_ID, __version__
from verifier.atomic import write_bytes
from verifier.files import read_limited
from verifier.errors import InputError, where
from verifier.manifest import PinnedFile, ReleaseManifest, strict_json_loads
from verifier.stages import (
    ArtifactResult,
    FetchedInputs,
    PackageComparison,
    PreparedEnvironment,
    RebuildResult,
    VerdictResult,
)

REPORT_VERSION = 1
MAX_REPORT_BYTES = 64 << 20


@dataclass(frozen=True)
class ReportEvidence:
    """Everything one verify run learned, as handed to ``build_report``."""

    manifest: ReleaseManifest
    manifest_sha256: str
    manifest_size: int
    inputs: FetchedInputs | None
    environment: PreparedEnvironment | None
    rebuild: RebuildResult | None
    artifacts: tuple[ArtifactResult, ...]
    packages: PackageComparison
    packages_manifest: str | None  # file name of the installed-packages manifest, beside the report
    verdict: VerdictResult
    timings: dict[str, float]
    started: datetime
    finished: datetime


def _pin(p: PinnedFile | None, **extra: Any) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"name": p.name, "url": p.url, "sha256": p.sha256, "size": p.size, **extra}


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _inputs(m: ReleaseManifest) -> dict[str, Any]:
    return {
        "environment": _pin(m.environment, format=m.environment.format),
        "lockfile": _pin(m.lockfile, format=m.lockfile.format) if m.lockfile else None,
        "sources": [_pin(s, unpack=s.unpack) for s in m.sources],
        "official_buildinfo": _pin(m.official_buildinfo),
    }


def _environment(env: PreparedEnvironment | None) -> dict[str, Any] | None:
    if env is None:
        return None
    return {
        "image": env.image,
        "image_id": env.image_id,
        "reused": env.reused,
        "runtime": {"name": env.runtime.name, "reason": env.runtime.reason},
        "podman_version": env.podman_version,
    }


def _build(m: ReleaseManifest, result: RebuildResult | None) -> dict[str, Any]:
    spec = m.build
    doc: dict[str, Any] = {
        "command": spec.command,
        "workdir": spec.workdir,
        "outputs": list(spec.outputs),
        "source_date_epoch": spec.source_date_epoch,
        "variables": dict(sorted(spec.variables.items())),
        "status": None, "exit_status": None, "reason": "", "log": None, "log_tail": "",
        "seconds": None, "unmatched_globs": [],
    }
    if result is not None:
        doc.update(
            status=result.status.value,
            exit_status=result.exit_status,
            reason=result.reason,
            log=str(result.log_path),
            log_tail=result.log_tail,
            seconds=round(result.seconds, 3),
            unmatched_globs=list(result.unmatched_globs),
        )
    return doc


def _artifact(a: ArtifactResult, pins: dict[str, PinnedFile]) -> dict[str, Any]:
    pin = pins.get(a.name)
    return {
        "name": a.name,
        "status": a.status.value,
        "official": {"url": pin.url, "sha256": a.official_sha256, "size": a.official_size} if pin else None,
        "rebuilt": {"sha256": a.rebuilt_sha256, "size": a.rebuilt_size} if a.rebuilt_sha256 else None,
        "difference": a.difference,
        "comments": list(a.comments),
        "normalizers": list(a.normalizers),
    }


def _packages(p: PackageComparison, manifest_file: str | None) -> dict[str, Any]:
    return {
        "status": p.status.value,
        "reason": p.reason,
        "counts": dict(p.counts),
        "drift": [dict(d) for d in p.drift],
        "manifest": manifest_file,
    }


def build_report(e: ReportEvidence) -> dict[str, Any]:
    m = e.manifest
    pins = {a.name: a for a in m.artifacts}
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": TOOL_ID, "version": __version__},
        "release": {
            "name": m.name,
            "version": m.version,
            "manifest": {"url": m.location, "sha256": e.manifest_sha256, "size": e.manifest_size},
        },
        "verdict": e.verdict.verdict.value,
        "reasons": list(e.verdict.reasons),
        "inputs": _inputs(m),
        "environment": _environment(e.environment),
        "build": _build(m, e.rebuild),
        "sandbox": dict(e.rebuild.sandbox) if e.rebuild else None,
        "artifacts": [_artifact(a, pins) for a in e.artifacts],
        "packages": _packages(e.packages, e.packages_manifest),
        "timings": {k: round(v, 3) for k, v in e.timings.items()},
        "started": _timestamp(e.started),
        "finished": _timestamp(e.finished),
    }


def report_bytes(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("utf-8")


def dump_report(report: dict[str, Any], path: Path) -> bytes:
    """Write the report atomically; return the bytes written (what a signature covers)."""
    data = report_bytes(report)
    write_bytes(path, data)
    return data


def load_report(path: Path) -> dict[str, Any]:
    """Read a saved report, refusing oversized, non-JSON or unknown-version documents."""
    data = read_limited(path, MAX_REPORT_BYTES, "report")
    doc = strict_json_loads(data, str(path))
    if not isinstance(doc, dict) or doc.get("report_version") != REPORT_VERSION:
        version = doc.get("report_version") if isinstance(doc, dict) else None
        raise InputError(where(path, f"not a verifier report of version {REPORT_VERSION} (report_version {version!r})"))
    return doc
