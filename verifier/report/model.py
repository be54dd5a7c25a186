"""The verify report as typed, frozen data: what the pipeline builds, what presenters,
the attestation, the badge and the exit code read. ``codec.py`` is the one place it
becomes (and is read back from) the versioned JSON of docs/report-format.md; this module
knows nothing of JSON.

Sections mirror the JSON: every JSON key has a field of the same name and meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from verifier.compare.difference import Difference
from verifier.manifest import Environment, Lockfile, PinnedFile, Source
from verifier.stages import (
    ArtifactStatus,
    BuildStatus,
    EnvironmentCheck,
    PackageCounts,
    PackageDrift,
    PackageStatus,
    RuntimeChoice,
    SandboxRecord,
    Verdict,
)


@dataclass(frozen=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True)
class FileRef:
    """A file as fetched (the manifest, an official artifact): where from, its digest and size."""

    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    manifest: FileRef


@dataclass(frozen=True)
class Inputs:
    """The pinned inputs, as the manifest named them (names are labels, never paths)."""

    environment: Environment
    lockfile: Lockfile | None
    sources: tuple[Source, ...]
    official_buildinfo: PinnedFile | None


@dataclass(frozen=True)
class EnvironmentInfo:
    """The prepared podman image."""

    image: str
    image_id: str
    reused: bool
    runtime: RuntimeChoice
    podman_version: str


@dataclass(frozen=True)
class Build:
    """The build as pinned in the manifest and, once run, its outcome (``status`` None: no build ran)."""

    command: str
    workdir: str
    outputs: tuple[str, ...]
    source_date_epoch: int
    variables: Mapping[str, str]
    status: BuildStatus | None = None
    exit_status: int | None = None
    reason: str = ""
    log: str | None = None
    log_tail: str = ""
    seconds: float | None = None
    unmatched_globs: tuple[str, ...] = ()
    log_errors: tuple[str, ...] = ()  # a failed build's first error-looking log lines; left out of the JSON when empty


@dataclass(frozen=True)
class RebuiltDigest:
    sha256: str
    size: int


@dataclass(frozen=True)
class Artifact:
    name: str
    status: ArtifactStatus
    official: FileRef | None  # None: EXTRA
    rebuilt: RebuiltDigest | None  # None: MISSING
    difference: Difference | None = None
    comments: tuple[str, ...] = ()
    normalizers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Packages:
    """The installed-packages manifest compared with the lockfile (and the official buildinfo)."""

    status: PackageStatus
    reason: str
    counts: PackageCounts | None  # None: nothing was compared
    drift: tuple[PackageDrift, ...]
    manifest: str | None  # file name of the installed-packages manifest, beside the report


@dataclass(frozen=True)
class BuildPackage:
    """One package of a rebuilt wheel's build environment, as locked (pylock.toml) and installed."""

    name: str
    version: str
    file: FileRef  # the wheel installed, where it came from, its sha256 and size


@dataclass(frozen=True)
class PolicyAttempt:
    """One timestamp policy tried on a wheel rebuild (docs/pypi.md), in the order tried."""

    name: str  # sdist-mtimes | pkg-info-time | wheel-zip-time | time-zone
    source_date_epoch: int | None  # None: SOURCE_DATE_EPOCH unset
    time_zone: str  # the TZ the build ran with
    rebuilt: RebuiltDigest | None  # None: no wheel (not tried, or the build failed)
    identical: bool
    note: str = ""  # why it was not tried, or what failed


@dataclass(frozen=True)
class PypiRebuild:
    """What `verifier pypi` adds: the index, the backend, the policies and the build packages."""

    index_url: str
    project: str
    upload_time: str  # the sdist's upload time (ISO 8601 UTC), the build packages' horizon
    generator: str  # the official wheel's WHEEL Generator, e.g. "flit 3.9.0"
    build_backend: str  # the sdist's [build-system] build-backend
    sdist: FileRef
    policies: tuple[PolicyAttempt, ...]
    matched_policy: str | None  # None: no policy gave a bit-identical wheel
    build_packages: tuple[BuildPackage, ...]
    lock: str | None  # where the pylock.toml was written (the run's directory)


@dataclass(frozen=True)
class ArchiveRecord:
    """The archive's signed chain the official files were authenticated through."""

    url: str
    suite: str
    release_sha256: str  # the InRelease file as fetched
    date: str  # its Date field
    signed_by: tuple[str, ...]  # key fingerprints gpgv reported a valid signature for
    keyring: str


@dataclass(frozen=True)
class DebianRecord:
    """What `verifier debian` adds: where the official files come from, where the build
    environment comes from, the .buildinfo's signature, and the files the rebuild kept."""

    source: str
    version: str
    archive: ArchiveRecord
    environment: str  # "buildinfo": the official build's packages; "re-resolved": today's build dependencies
    buildinfo: str | None  # the .buildinfo given, as named
    buildinfo_signature: str  # "verified", "not signed", "not checked" or "none" (no .buildinfo)
    signature_detail: str  # the signer's fingerprint, or why it was not checked
    missing_packages: tuple[str, ...]  # NAME=VERSION the .buildinfo names and the archive lacks
    rebuilt_files: tuple[str, ...]  # paths of the kept .debs, -dbgsym packages and .buildinfo


@dataclass(frozen=True)
class Report:
    tool: Tool
    release: Release
    verdict: Verdict
    reasons: tuple[str, ...]
    inputs: Inputs
    environment: EnvironmentInfo | None  # None: the run stopped before
    build: Build
    sandbox: SandboxRecord | None  # None: no build ran
    artifacts: tuple[Artifact, ...]
    packages: Packages
    timings: Mapping[str, float]  # seconds per stage
    started: datetime  # UTC, whole seconds
    finished: datetime
    pypi: PypiRebuild | None = None  # `verifier pypi` only; left out of the JSON when None
    environment_check: EnvironmentCheck | None = None  # None: --rebuild-env not asked (left out of the JSON)
    debian: DebianRecord | None = None  # only from `verifier debian`

    @property
    def title(self) -> str:
        return f"{self.release.name} {self.release.version}"


def timestamp(moment: datetime) -> str:
    """The report's time format: UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
