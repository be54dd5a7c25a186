"""The seam between the pipeline and the place a build runs: the ``Sandbox`` protocol.

A sandbox does three things: import a pinned environment archive, run a build of fetched
inputs in it with the network off, and collect the declared outputs as plain files. The
pipeline and ``publish`` only ever see this protocol (``verifier/sandbox/rebuild.py``
sequences the three); which implementation they get is decided once, with a recorded
reason, by ``verifier/sandbox/backends.py``. The real one is podman
(``podman_sandbox.py``, private); ``fake.py`` is a fast stand-in for pipeline tests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from verifier.stages import (
    BuildPreparation, BuildStatus, CachedFile, FetchedInputs, InstalledPackage, PreparedEnvironment, RebuiltFile,
    SandboxRecord,
)

LineCallback = Callable[[str], None]  # told each build-log line as it arrives (a status line)


@dataclass(frozen=True)
class SandboxChoice:
    """Which backend runs builds, and why (the report records both)."""

    name: str
    reason: str


@dataclass(frozen=True)
class FinishedBuild:
    """A build that has run; its outputs are still where the build left them."""

    status: BuildStatus  # SUCCEEDED, FAILED, TIMED_OUT or LIMIT_EXCEEDED (never NO_OUTPUTS: not collected yet)
    exit_status: int | None
    reason: str  # why it did not succeed, one line
    log_path: Path
    log_tail: str
    record: SandboxRecord  # how the build was run (flags, runtime, env); output notes added on collection
    seconds: float
    started_at: float | None  # wall-clock epoch seconds when the build started
    installed_packages: tuple[InstalledPackage, ...] | None
    workdir: Path  # the build directory on the host, as the build left it
    outputs_dir: Path  # where collected outputs are copied to


@dataclass(frozen=True)
class CollectedOutputs:
    outputs: tuple[RebuiltFile, ...]
    unmatched_globs: tuple[str, ...]
    notes: tuple[str, ...]  # matches not collected or collected changed (symlink, FIFO, setuid bit…)


class Sandbox(Protocol):
    @property
    def choice(self) -> SandboxChoice: ...

    def import_environment(self, environment: CachedFile) -> PreparedEnvironment:
        """Make the pinned environment archive runnable (idempotent; reused by digest)."""

    def run_build(self, env: PreparedEnvironment, inputs: FetchedInputs, preparation: BuildPreparation | None,
                  on_line: LineCallback | None) -> AbstractContextManager[FinishedBuild]:
        """Run the manifest's build command with the network off; the build's files live
        until the context ends."""

    def collect_outputs(self, build: FinishedBuild, globs: tuple[str, ...]) -> CollectedOutputs:
        """Copy the files matching ``globs`` out of the finished build, as plain regular files."""
