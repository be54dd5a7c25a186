"""The typed hand-offs between pipeline stages (see docs/architecture.md).

ReleaseManifest --fetch--> FetchedInputs --environment--> PreparedEnvironment
  --rebuild--> RebuildResult --compare--> ArtifactResult* (+ PackageComparison)
  --verdict--> VerdictResult --report--> Report (verifier/report/model.py; versioned JSON)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.manifest import PinnedFile, ReleaseManifest
from verifier.outcome import Verdict


@dataclass(frozen=True)
class CachedFile:
    """A pinned file present in the content-addressed cache, its digest checked."""

    pin: PinnedFile
    path: Path  # the cache entry, named by digest; never derived from the pin's name


@dataclass(frozen=True)
class FetchedInputs:
    manifest: ReleaseManifest
    manifest_sha256: str
    manifest_size: int
    environment: CachedFile
    lockfile: CachedFile | None
    sources: tuple[CachedFile, ...]
    artifacts: tuple[CachedFile, ...]
    official_buildinfo: CachedFile | None = None
    environment_lock: CachedFile | None = None  # the manifest's environment.lock


@dataclass(frozen=True)
class RuntimeChoice:
    """Which OCI runtime podman is told to use, and why it was chosen."""

    name: str
    reason: str


@dataclass(frozen=True)
class PreparedEnvironment:
    image: str  # podman image reference, named by the archive digest
    image_id: str
    archive_sha256: str
    format: str  # rootfs | oci-archive | docker-archive
    reused: bool  # True when the image was already present (cache hit)
    runtime: RuntimeChoice
    podman_version: str


class BuildStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # the build command exited non-zero
    TIMED_OUT = "TIMED_OUT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"  # memory, pids, disk or output size
    NO_OUTPUTS = "NO_OUTPUTS"  # succeeded, but an output glob matched nothing


@dataclass(frozen=True)
class Mount:
    """A read-only bind mount into the sandbox."""

    host_path: Path
    container_path: str


@dataclass(frozen=True)
class BuildPreparation:
    """What a lockfile adds to a rebuild: an offline package repository mounted read-only,
    a script run as root inside the same network-less sandbox before the build command
    (installing the whole build environment in one transaction), and a command whose
    output lists installed packages, one ``name<TAB>version<TAB>architecture`` per line."""

    mounts: tuple[Mount, ...]
    install_script: str
    installed_query: str


@dataclass(frozen=True)
class RebuiltFile:
    name: str  # the output's path relative to the workdir, as matched by a glob
    path: Path  # where it was collected on the host (under the work dir)
    sha256: str
    size: int


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    version: str
    architecture: str


@dataclass(frozen=True)
class SandboxLimits:
    """The limits the build container ran under (podman flags and tmpfs sizes)."""

    build_timeout: float
    memory: str
    pids: int
    nofile: int
    nproc: int
    tmp_size: str
    workdir_size: str  # a size, or why it is not limited


@dataclass(frozen=True)
class SandboxRecord:
    """Exactly how the build container was run, as recorded in the report's ``sandbox``."""

    backend: str
    podman_version: str
    runtime: str
    runtime_reason: str
    network: str
    argv: tuple[str, ...]  # the podman command line, the container name replaced
    env: Mapping[str, str]
    hostname: str
    user: str
    umask: str
    workdir: str
    capabilities: tuple[str, ...]
    limits: SandboxLimits
    output_notes: tuple[str, ...] = ()  # outputs matched but not collected, and why
    backend_reason: str = ""  # why this sandbox backend was chosen (verifier/sandbox/backends.py)


@dataclass(frozen=True)
class RebuildResult:
    status: BuildStatus
    exit_status: int | None
    outputs: tuple[RebuiltFile, ...]
    unmatched_globs: tuple[str, ...]
    log_path: Path
    log_tail: str
    sandbox: SandboxRecord  # the sandbox settings actually used (flags, runtime, env)
    seconds: float
    reason: str = ""  # why the build did not succeed, one line
    installed_packages: tuple[InstalledPackage, ...] | None = None  # None: not read
    started_at: float | None = None  # wall-clock epoch seconds when the container started
    log_errors: tuple[str, ...] = ()  # a failed build's first error-looking log lines (sandbox/log.py)


class ArtifactStatus(StrEnum):
    IDENTICAL = "IDENTICAL"  # same sha256 and size
    EQUIVALENT = "EQUIVALENT"  # identical only after user-selected normalisers
    DIFFERENT = "DIFFERENT"
    MISSING = "MISSING"  # official artifact with no rebuilt twin
    EXTRA = "EXTRA"  # rebuilt output the release does not list


@dataclass(frozen=True)
class ArtifactResult:
    name: str
    status: ArtifactStatus
    official_sha256: str | None
    official_size: int | None
    rebuilt_sha256: str | None
    rebuilt_size: int | None
    difference: Difference | None = None  # the auditor's explanation
    comments: tuple[str, ...] = ()  # degradations and notes, never hidden
    normalizers: tuple[str, ...] = ()  # applied for EQUIVALENT


class PackageStatus(StrEnum):
    MATCH = "MATCH"
    DRIFT = "DRIFT"
    NOT_CHECKED = "NOT_CHECKED"  # no lockfile, or installed packages not readable


@dataclass(frozen=True)
class PackageDrift:
    """A locked package installed at another version (None: not installed), or whose
    version in the official buildinfo differs (None: not there, or no buildinfo)."""

    name: str
    lockfile: str
    installed: str | None
    buildinfo: str | None


@dataclass(frozen=True)
class PackageCounts:
    lockfile: int  # packages the lockfile pins
    installed: int  # packages installed in the sandbox
    installed_not_locked: int  # the base environment's own, pinned by the environment's digest


@dataclass(frozen=True)
class PackageComparison:
    status: PackageStatus
    reason: str = ""
    drift: tuple[PackageDrift, ...] = ()
    counts: PackageCounts | None = None  # None: nothing was compared


class EnvironmentStatus(StrEnum):
    """`verify --rebuild-env`: the published environment against what its lock rebuilds."""

    REBUILT_IDENTICAL = "REBUILT-IDENTICAL"
    DIFFERENT = "DIFFERENT"
    NOT_CHECKED = "NOT-CHECKED"  # asked for, but not possible (the reason says why)


@dataclass(frozen=True)
class EnvironmentFile:
    """A member of the rootfs that differs between the published and the rebuilt archive."""

    name: str  # member name without "./"
    package: str  # the package owning it, or "no package (…)"
    change: str  # content differs | only in the published archive (…) | mode 4755 -> 0755 | …


@dataclass(frozen=True)
class EnvironmentPackage:
    """A package whose installed version differs from the environment lock's (None: absent)."""

    name: str
    architecture: str
    lock: str | None
    installed: str | None
    note: str = ""  # e.g. "the .deb's sha256 differs from the lock's"


@dataclass(frozen=True)
class EnvironmentCheck:
    """The published environment rebuilt from its lock (docs/environments.md)."""

    status: EnvironmentStatus
    reason: str  # one line: why NOT-CHECKED, or what was found
    lock: PinnedFile | None  # the environment lock used (the manifest's environment.lock or --env-lock)
    published_sha256: str | None = None
    rebuilt_sha256: str | None = None
    files: tuple[EnvironmentFile, ...] = ()  # members that differ, with their packages
    packages: tuple[EnvironmentPackage, ...] = ()  # the published rootfs's dpkg status against the lock
    rebuild_drift: tuple[EnvironmentPackage, ...] = ()  # what the rebuild installed against the lock
    seconds: float | None = None


@dataclass(frozen=True)
class VerdictResult:
    verdict: Verdict
    reasons: tuple[str, ...]
