"""The podman sandbox (private: reached through ``backends.open_sandbox``).

The build runs in ``podman run`` with flags verifier builds itself (docs/sandbox.md):
network off, capabilities dropped to those package installation needs, no new
privileges, resource limits, a normalised environment, and the image's own
configuration ignored.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from verifier.errors import SandboxError
from verifier.sandbox.environment import prepare_environment
from verifier.sandbox.interface import CollectedOutputs, FinishedBuild, LineCallback, SandboxChoice
from verifier.sandbox.layout import BuildLayout, place_sources
from verifier.sandbox.log import LogCapture
from verifier.sandbox.outputs import collect
from verifier.sandbox.podman import Podman, last_line
from verifier.sandbox.runtime import ulimit_flags
from verifier.sandbox.script import META, build_environment, build_script, read_installed, script_failure
from verifier.settings import Settings
from verifier.stages import (
    BuildPreparation, BuildStatus, CachedFile, FetchedInputs, PreparedEnvironment, SandboxLimits, SandboxRecord,
)

CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "KILL")
HOSTNAME = "verifier-build"
BUILD_LABEL = "io.verifier.build"  # every build container carries it; its value is Settings.build_label
MOUNT_OPTIONS = "nosuid,nodev"  # on every mount: a setuid file or device node made there does nothing
PODMAN_START_FAILURES = (125, 126, 127)  # podman itself (125), or the entrypoint not executable/found
LIMIT_PATTERNS = (("No space left on device", "the build filled its disk (workdir size limit)"),
                  ("Cannot allocate memory", "the build ran out of memory (memory limit)"),
                  ("Resource temporarily unavailable", "the build hit the process limit (pids limit)"),
                  ("can't fork", "the build hit the process limit (pids limit)"))


class _PodmanSandbox:
    def __init__(self, podman: Podman, settings: Settings, choice: SandboxChoice) -> None:
        self._podman, self._settings, self._choice = podman, settings, choice

    @property
    def choice(self) -> SandboxChoice:
        return self._choice

    def import_environment(self, environment: CachedFile) -> PreparedEnvironment:
        return prepare_environment(self._podman, environment, self._settings)

    @contextmanager
    def run_build(self, env: PreparedEnvironment, inputs: FetchedInputs, preparation: BuildPreparation | None,
                  on_line: LineCallback | None) -> Iterator[FinishedBuild]:
        layout = BuildLayout.create(self._settings)
        try:
            yield self._run(layout, env, inputs, preparation, on_line)
        finally:
            layout.release()

    def collect_outputs(self, build: FinishedBuild, globs: tuple[str, ...]) -> CollectedOutputs:
        return collect(build.workdir, build.outputs_dir, globs, self._settings.sandbox)

    def _run(self, layout: BuildLayout, env: PreparedEnvironment, inputs: FetchedInputs,
             preparation: BuildPreparation | None, on_line: LineCallback | None) -> FinishedBuild:
        settings = self._settings
        place_sources(inputs, layout, settings)
        (layout.meta / "command.sh").write_text(inputs.manifest.build.command + "\n")
        (layout.meta / "build.sh").write_text(build_script(inputs, preparation))
        name = f"verifier-build-{secrets.token_hex(6)}"
        argv = podman_argv(env, inputs, settings, layout, name, preparation)
        started, started_at = time.monotonic(), time.time()
        exit_status, timed_out, tail = run_container(self._podman, argv, name, layout,
                                                     settings.sandbox.build_timeout, on_line)
        status, reason = _classify(exit_status, timed_out, tail, inputs.manifest.build.workdir, settings)
        return FinishedBuild(
            status=status, exit_status=exit_status, reason=reason, log_path=layout.log, log_tail=tail,
            record=sandbox_record(self._choice, env, argv, inputs, settings, layout, name),
            seconds=time.monotonic() - started, started_at=started_at,
            installed_packages=read_installed(layout.meta) if preparation else None,
            workdir=layout.workdir, outputs_dir=layout.outputs)


def podman_argv(env: PreparedEnvironment, inputs: FetchedInputs, settings: Settings, layout: BuildLayout,
                name: str, preparation: BuildPreparation | None) -> list[str]:
    s = settings.sandbox
    argv = ["--runtime", env.runtime.name, "run", "--name", name, "--label", f"{BUILD_LABEL}={settings.build_label}",
            "--network=none", "--cap-drop=ALL", *[f"--cap-add={c}" for c in CAPABILITIES],
            "--security-opt", "no-new-privileges", "--pids-limit", str(s.pids), "--memory", s.memory,
            "--memory-swap", s.memory, *ulimit_flags(settings), "--hostname", HOSTNAME, "--user", "0:0",
            "--unsetenv-all", "--image-volume", "ignore",
            "--tmpfs", f"/tmp:rw,size={s.tmpfs_size},mode=1777,{MOUNT_OPTIONS}",
            "--mount", f"type=bind,source={layout.workdir},destination={inputs.manifest.build.workdir},{MOUNT_OPTIONS}",
            "--mount", f"type=bind,source={layout.meta},destination={META},{MOUNT_OPTIONS}",
            "--workdir", inputs.manifest.build.workdir, "--entrypoint", "/bin/sh"]
    for mount in preparation.mounts if preparation else ():
        argv += ["--mount", f"type=bind,source={mount.host_path},destination={mount.container_path},readonly=true,"
                            f"{MOUNT_OPTIONS}"]
    for key, value in sorted(build_environment(inputs).items()):
        argv += ["--env", f"{key}={value}"]
    return argv + [env.image, META + "/build.sh"]


def run_container(podman: Podman, argv: list[str], name: str, layout: BuildLayout,
                  timeout: float, on_line: LineCallback | None = None) -> tuple[int | None, bool, str]:
    """Run the build; returns (exit status or None, timed out, log tail). Always removes the container."""
    process = subprocess.Popen([podman.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    capture = LogCapture(process.stdout, layout.log, on_line)
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        podman.run(["kill", name], check=False, timeout=60)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        podman.run(["rm", "--force", "--time", "0", name], check=False, timeout=120)
    return (None if timed_out else process.returncode), timed_out, capture.text()


def _oom_or_limit(tail: str, exit_status: int | None) -> str | None:
    if exit_status == 137:
        return "the build was killed (exit 137): memory limit or OOM"
    return next((why for pattern, why in LIMIT_PATTERNS if pattern in tail), None)


def _classify(exit_status: int | None, timed_out: bool, tail: str, workdir: str,
              settings: Settings) -> tuple[BuildStatus, str]:
    if timed_out:
        return BuildStatus.TIMED_OUT, f"the build ran longer than {settings.sandbox.build_timeout:g} s (--build-timeout)"
    if exit_status == 0:
        return BuildStatus.SUCCEEDED, ""
    if exit_status in PODMAN_START_FAILURES and "Error:" in tail:
        raise SandboxError(f"podman could not start the build container: {last_line(tail)}")
    limit = _oom_or_limit(tail, exit_status)
    if limit:
        return BuildStatus.LIMIT_EXCEEDED, limit
    script = script_failure(exit_status, workdir)
    if script:
        return BuildStatus.FAILED, f"{script}: {last_line(tail)}"
    return BuildStatus.FAILED, f"the build command exited with status {exit_status}: {last_line(tail)}"


def sandbox_record(choice: SandboxChoice, env: PreparedEnvironment, argv: list[str], inputs: FetchedInputs,
                   settings: Settings, layout: BuildLayout, name: str) -> SandboxRecord:
    s = settings.sandbox
    shown = ("podman", *("<container>" if a == name else a for a in argv))
    limits = SandboxLimits(build_timeout=s.build_timeout, memory=s.memory, pids=s.pids, nofile=s.nofile,
                           nproc=s.nproc, tmp_size=s.tmpfs_size,
                           workdir_size=s.workdir_size if layout.tmpfs else "not limited (no tmpfs mount)")
    return SandboxRecord(
        backend=choice.name, backend_reason=choice.reason, podman_version=env.podman_version,
        runtime=env.runtime.name, runtime_reason=env.runtime.reason, network="none", argv=shown,
        env=build_environment(inputs), hostname=HOSTNAME, user="0:0", umask="022",
        workdir=inputs.manifest.build.workdir, capabilities=CAPABILITIES, limits=limits)
