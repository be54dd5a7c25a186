"""The report's sections as plain rows of raw (unescaped) values, shared by presenters.

Presenters escape every value themselves; nothing here formats for a medium.
"""

from __future__ import annotations

from verifier.manifest import PinnedFile
from verifier.report.model import Artifact, Report, timestamp

Cell = str | int | float | bool | None
Row = tuple[Cell, ...]
VERDICT_COLOR = {"REPRODUCIBLE": "brightgreen", "EQUIVALENT": "yellowgreen",
                 "DIFFERENT": "red", "INCONCLUSIVE": "lightgrey"}

INPUT_HEADERS = ("input", "name", "sha256", "size", "url")


def input_rows(report: Report) -> list[Row]:
    manifest, inputs = report.release.manifest, report.inputs
    rows: list[Row] = [("manifest", "release.json", manifest.sha256, manifest.size, manifest.url)]
    pins: list[tuple[str, PinnedFile | None]] = [("environment", inputs.environment), ("lockfile", inputs.lockfile)]
    pins += [("source", s) for s in inputs.sources]
    pins += [("official buildinfo", inputs.official_buildinfo)]
    rows += [(role, pin.name, pin.sha256, pin.size, pin.url) for role, pin in pins if pin is not None]
    return rows


def environment_rows(report: Report) -> list[Row]:
    env = report.environment
    if env is None:
        return [("environment", "not prepared")]
    return [("image", env.image), ("image id", env.image_id),
            ("reused", env.reused), ("runtime", env.runtime.name),
            ("runtime reason", env.runtime.reason), ("podman", env.podman_version),
            ("network", report.sandbox.network if report.sandbox else None)]


def build_rows(report: Report) -> list[Row]:
    b = report.build
    variables = " ".join(f"{k}={v}" for k, v in sorted(b.variables.items()))
    return [("command", b.command), ("workdir", b.workdir),
            ("outputs", " ".join(b.outputs)),
            ("SOURCE_DATE_EPOCH", b.source_date_epoch), ("variables", variables),
            ("status", b.status), ("exit status", b.exit_status),
            ("reason", b.reason), ("seconds", b.seconds), ("log", b.log),
            ("unmatched globs", " ".join(b.unmatched_globs))]


ARTIFACT_HEADERS = ("artifact", "status", "official sha256", "rebuilt sha256", "size official/rebuilt")


def artifact_row(a: Artifact) -> Row:
    official_size = a.official.size if a.official else None
    rebuilt_size = a.rebuilt.size if a.rebuilt else None
    sizes = "/".join("-" if v is None else str(v) for v in (official_size, rebuilt_size))
    return (a.name, a.status, a.official.sha256 if a.official else None,
            a.rebuilt.sha256 if a.rebuilt else None, sizes)


DRIFT_HEADERS = ("package", "lockfile", "installed", "buildinfo")


def packages_summary(report: Report) -> list[Row]:
    p = report.packages
    counts = p.counts
    return [("status", p.status), ("reason", p.reason),
            ("lockfile packages", counts.lockfile if counts else None),
            ("installed packages", counts.installed if counts else None),
            ("manifest", p.manifest)]


def drift_rows(report: Report) -> list[Row]:
    return [(d.name, d.lockfile, d.installed, d.buildinfo) for d in report.packages.drift]


def timing_rows(report: Report) -> list[Row]:
    rows: list[Row] = sorted(report.timings.items())
    return rows + [("started", timestamp(report.started)), ("finished", timestamp(report.finished))]
