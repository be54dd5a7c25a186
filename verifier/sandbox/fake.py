"""A fast stand-in sandbox for pipeline tests: no container, the build's result given in advance.

``FakeSandbox`` keeps the protocol's contract: sources are placed in a real build
directory, the "build" leaves the files it was told to leave there, and outputs are
collected by the same code as for podman (``outputs.collect``). It only replaces running
a container, so ``pipeline.verify`` can be tested in milliseconds, verdict by verdict.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from verifier.sandbox.interface import CollectedOutputs, FinishedBuild, LineCallback, SandboxChoice
from verifier.sandbox.layout import BuildLayout, place_sources
from verifier.sandbox.outputs import collect
from verifier.sandbox.script import build_environment
from verifier.settings import Settings
from verifier.stages import (
    BuildPreparation, BuildStatus, CachedFile, FetchedInputs, InstalledPackage, PreparedEnvironment, RuntimeChoice,
    SandboxLimits, SandboxRecord,
)


@dataclass(frozen=True)
class FakeBuild:
    """What the fake build does: the files it leaves (relative to the workdir), how it ends."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    symlinks: Mapping[str, str] = field(default_factory=dict)  # path -> link target, made as they are
    status: BuildStatus = BuildStatus.SUCCEEDED
    exit_status: int | None = 0
    reason: str = ""
    log: str = "fake build\n"
    installed: tuple[InstalledPackage, ...] | None = None  # reported only when a lockfile prepared the build


class FakeSandbox:
    def __init__(self, settings: Settings, build: FakeBuild | Callable[[FetchedInputs], FakeBuild]) -> None:
        self._settings, self._build = settings, build
        self.imported: list[CachedFile] = []
        self.preparations: list[BuildPreparation | None] = []

    @property
    def choice(self) -> SandboxChoice:
        return SandboxChoice("fake", "passed in by a test")

    def import_environment(self, environment: CachedFile) -> PreparedEnvironment:
        self.imported.append(environment)
        digest = environment.pin.sha256
        return PreparedEnvironment(image=f"fake:{digest}", image_id=digest[:12], archive_sha256=digest,
                                   format=getattr(environment.pin, "format", "rootfs"), reused=False,
                                   runtime=RuntimeChoice("none", "fake sandbox"), podman_version="none")

    @contextmanager
    def run_build(self, env: PreparedEnvironment, inputs: FetchedInputs, preparation: BuildPreparation | None,
                  on_line: LineCallback | None) -> Iterator[FinishedBuild]:
        self.preparations.append(preparation)
        plan = self._build(inputs) if callable(self._build) else self._build
        layout = _layout(self._settings.work_dir.resolve() / "fake-builds" / secrets.token_hex(4))
        place_sources(inputs, layout, self._settings)
        for rel, data in plan.files.items():
            (layout.workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            (layout.workdir / rel).write_bytes(data)
        for rel, target in plan.symlinks.items():
            (layout.workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            (layout.workdir / rel).symlink_to(target)
        layout.log.write_text(plan.log)
        if on_line is not None:
            for line in plan.log.splitlines():
                on_line(line)
        yield FinishedBuild(
            status=plan.status, exit_status=plan.exit_status, reason=plan.reason, log_path=layout.log,
            log_tail=plan.log.rstrip("\n"), record=_record(self.choice, inputs),
            seconds=0.0, started_at=time.time(), installed_packages=plan.installed if preparation else None,
            workdir=layout.workdir, outputs_dir=layout.outputs)

    def collect_outputs(self, build: FinishedBuild, globs: tuple[str, ...]) -> CollectedOutputs:
        return collect(build.workdir, build.outputs_dir, globs, self._settings.sandbox)


def _layout(root: Path) -> BuildLayout:
    for sub in ("workdir", "meta", "outputs"):
        (root / sub).mkdir(parents=True)
    return BuildLayout(root, root / "workdir", root / "meta", root / "outputs", root / "build.log", tmpfs=False)


def _record(choice: SandboxChoice, inputs: FetchedInputs) -> SandboxRecord:
    """What a report says of a fake build: no container, no limits."""
    none = SandboxLimits(build_timeout=0.0, memory="none", pids=0, nofile=0, nproc=0, tmp_size="none",
                         workdir_size="not limited (fake sandbox)")
    return SandboxRecord(backend=choice.name, backend_reason=choice.reason, podman_version="none", runtime="none",
                         runtime_reason="fake sandbox", network="none", argv=(), env=build_environment(inputs),
                         hostname="fake", user="0:0", umask="022", workdir=inputs.manifest.build.workdir,
                         capabilities=(), limits=none)
