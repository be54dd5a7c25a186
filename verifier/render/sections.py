"""The report's sections as plain rows of raw (unescaped) values, shared by presenters.

Presenters escape every value themselves; nothing here formats for a medium.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

from verifier.manifest import PinnedFile
from verifier.report.model import Artifact, Report, timestamp
from verifier.stages import ArtifactStatus, BuildStatus, PackageStatus
from verifier.verdict import artifact_reason

Cell = str | int | float | bool | None
Row = tuple[Cell, ...]
T = TypeVar("T")
MAX_REASONS = 20  # a summary names this many reasons; the JSON keeps them all
# the official (pinned) artifacts first, those that differ leading; outputs the release does not
# list last: thousands of them must not push the release's own artifacts out of a capped table
SUMMARY_ORDER = {ArtifactStatus.DIFFERENT: 0, ArtifactStatus.MISSING: 1, ArtifactStatus.EQUIVALENT: 2,
                 ArtifactStatus.IDENTICAL: 3, ArtifactStatus.EXTRA: 4}
EXTRA_REASONS_LISTED = 3  # more reasons about extra outputs than this are summarised in one line
VERDICT_COLOR = {"REPRODUCIBLE": "brightgreen", "EQUIVALENT": "yellowgreen",
                 "DIFFERENT": "red", "INCONCLUSIVE": "lightgrey"}



def filled(rows: list[Row]) -> list[Row]:
    """Rows whose value (the last column) says something: no empty ``variables`` or ``reason``."""
    return [row for row in rows if row[-1] not in (None, "")]


def capped(values: Sequence[T], limit: int) -> tuple[Sequence[T], int]:
    """The first ``limit`` values and how many more there are."""
    return values[:limit], max(0, len(values) - limit)


def more_line(count: int, what: str) -> str:
    return f"… and {count:,} more {what}, see the JSON report" if count else ""


def more_artifacts(hidden: Sequence[Artifact]) -> str:
    """``… and 2,950 more artifacts (2,950 EXTRA), see the JSON report``."""
    if not hidden:
        return ""
    counts = Counter(a.status for a in hidden)
    by_status = ", ".join(f"{counts[st]:,} {st.value}" for st in SUMMARY_ORDER if counts[st])
    return f"… and {len(hidden):,} more artifacts ({by_status}), see the JSON report"


ERRORS_HEADING = "first error-looking lines of the build log:"


def build_errors(report: Report) -> tuple[str, ...]:
    """A failed build's first error-looking log lines, for the summary (none when it succeeded)."""
    b = report.build
    return () if b.status in (None, BuildStatus.SUCCEEDED) else b.log_errors


def reasons(report: Report, limit: int = MAX_REASONS) -> tuple[Sequence[str], int]:
    """The verdict's reasons for a summary: those about the official artifacts (and the rest)
    first; the extra outputs' reasons last, in one line when there are many; then capped."""
    extra = {artifact_reason(a.name, a.status) for a in report.artifacts if a.status == ArtifactStatus.EXTRA}
    about_extra = [r for r in report.reasons if r in extra]
    listed = [r for r in report.reasons if r not in extra]
    if len(about_extra) > EXTRA_REASONS_LISTED:
        listed.append(f"{len(about_extra):,} extra outputs not listed in the release, see the JSON report")
    else:
        listed += about_extra
    return capped(listed, limit)


def seconds(value: float | None) -> str | None:
    """``3.2 s``; the JSON keeps the exact number."""
    return None if value is None else f"{value:.1f} s"


def differing_first(report: Report) -> list[Artifact]:
    """The artifacts in the order a capped summary must show them: the official ones first
    (DIFFERENT, MISSING, EQUIVALENT, IDENTICAL), the extra outputs last."""
    return sorted(report.artifacts, key=lambda a: SUMMARY_ORDER[a.status])


def summary_artifacts(report: Report, limit: int) -> tuple[Sequence[Artifact], str]:
    """The first ``limit`` artifacts in summary order and the line saying what is left out."""
    ordered = differing_first(report)
    return ordered[:limit], more_artifacts(ordered[limit:])


def explained(report: Report) -> list[Artifact]:
    """The artifacts with something to say: a difference tree or comments; differing first."""
    return [a for a in differing_first(report) if a.difference or a.comments]


def packages_checked(report: Report) -> bool:
    p = report.packages
    return p.status != PackageStatus.NOT_CHECKED or p.counts is not None or bool(p.drift)


INPUT_HEADERS = ("input", "name", "sha256", "size", "url")


def input_rows(report: Report) -> list[Row]:
    manifest, inputs = report.release.manifest, report.inputs
    rows: list[Row] = [("manifest", "release.json", manifest.sha256, manifest.size, manifest.url)]
    pins: list[tuple[str, PinnedFile | None]] = [("environment", inputs.environment),
                                                 ("environment lock", inputs.environment.lock),
                                                 ("lockfile", inputs.lockfile)]
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


def debian_rows(report: Report) -> list[Row]:
    """`verifier debian`'s record: the archive's signed chain, the environment's origin, the
    .buildinfo's signature and the kept files (empty for other reports)."""
    d = report.debian
    if d is None:
        return []
    a = d.archive
    origin = {"buildinfo": "the official build's (from the .buildinfo)",
              "re-resolved": "re-resolved today, NOT the original one"}.get(d.environment, d.environment)
    signature = f"{d.buildinfo_signature} ({d.signature_detail})" if d.signature_detail else d.buildinfo_signature
    return [("source", f"{d.source} {d.version}"), ("archive", f"{a.url} {a.suite}"),
            ("Release sha256", a.release_sha256), ("Release date", a.date),
            ("signed by", " ".join(a.signed_by)), ("keyring", a.keyring),
            ("environment", origin), ("buildinfo", d.buildinfo),
            ("buildinfo signature", signature),
            ("missing packages", " ".join(d.missing_packages)),
            ("rebuilt files", " ".join(d.rebuilt_files))]


def build_rows(report: Report) -> list[Row]:
    b = report.build
    variables = " ".join(f"{k}={v}" for k, v in sorted(b.variables.items()))
    return [("command", b.command), ("workdir", b.workdir),
            ("outputs", " ".join(b.outputs)),
            ("SOURCE_DATE_EPOCH", b.source_date_epoch), ("variables", variables),
            ("status", b.status), ("exit status", b.exit_status),
            ("reason", b.reason), ("time", seconds(b.seconds)), ("log", b.log),
            ("unmatched globs", " ".join(b.unmatched_globs)), ("output notes", output_notes(report))]


SHOWN_NOTES = 5


def output_notes(report: Report) -> str:
    """Outputs refused or changed on collection (symlinks, devices, FIFOs, setuid bits): the
    first few; the JSON report has them all."""
    notes = report.sandbox.output_notes if report.sandbox else ()
    more = f"; … ({len(notes)} notes in all, listed in the JSON report)" if len(notes) > SHOWN_NOTES else ""
    return "; ".join(notes[:SHOWN_NOTES]) + more


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


MAX_ENV_ROWS = 50  # differing rootfs files (and packages) shown; the JSON report has them all
ENV_FILE_HEADERS = ("file", "package", "published -> rebuilt")
ENV_PACKAGE_HEADERS = ("package", "architecture", "lock", "installed", "note")


def environment_check_rows(report: Report) -> list[Row]:
    c = report.environment_check
    if c is None:
        return []
    lock = c.lock
    return [("status", c.status), ("reason", c.reason), ("lock", lock.url if lock else None),
            ("lock sha256", lock.sha256 if lock else None), ("published sha256", c.published_sha256),
            ("rebuilt sha256", c.rebuilt_sha256), ("time", seconds(c.seconds))]


def environment_file_rows(report: Report) -> tuple[list[Row], int]:
    files = report.environment_check.files if report.environment_check else ()
    shown, more = capped(files, MAX_ENV_ROWS)
    return [(f.name, f.package, f.change) for f in shown], more


def environment_package_rows(report: Report) -> tuple[list[Row], int]:
    """The published rootfs's installed packages against the lock, then the rebuild's drift."""
    c = report.environment_check
    if c is None:
        return [], 0
    rows = [(p.name, p.architecture, p.lock, p.installed, p.note) for p in c.packages]
    rows += [(p.name, p.architecture, p.lock, p.installed, p.note or "installed by the rebuild")
             for p in c.rebuild_drift]
    shown, more = capped(rows, MAX_ENV_ROWS)
    return list(shown), more


def timing_rows(report: Report) -> list[Row]:
    rows: list[Row] = [(step, seconds(value)) for step, value in sorted(report.timings.items())]
    return rows + [("started", timestamp(report.started)), ("finished", timestamp(report.finished))]


POLICY_HEADERS = ("policy", "SOURCE_DATE_EPOCH", "TZ", "rebuilt sha256", "identical", "note")
BUILD_PACKAGE_HEADERS = ("package", "version", "sha256", "url")


def pypi_rows(report: Report) -> list[Row]:
    """`verifier pypi`: where the release came from and which policy matched ([] otherwise)."""
    p = report.pypi
    if p is None:
        return []
    return [("index", p.index_url), ("project", p.project), ("upload time", p.upload_time),
            ("generator", p.generator), ("build backend", p.build_backend), ("sdist", p.sdist.url),
            ("sdist sha256", p.sdist.sha256), ("matched policy", p.matched_policy or "none"),
            ("lock", p.lock)]


def policy_rows(report: Report) -> list[Row]:
    p = report.pypi
    return [(a.name, "unset" if a.source_date_epoch is None else a.source_date_epoch, a.time_zone,
             a.rebuilt.sha256 if a.rebuilt else None, a.identical, a.note) for a in (p.policies if p else ())]


def build_package_rows(report: Report) -> list[Row]:
    p = report.pypi
    return [(b.name, b.version, b.file.sha256, b.file.url) for b in (p.build_packages if p else ())]
