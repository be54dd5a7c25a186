"""The hermetic rebuild: the build command in podman with the network off.

Layout of one rebuild under ``<work dir>/builds/<id>/``:
    workdir/   bind-mounted at the manifest's workdir; a size-limited tmpfs when we can mount one
    meta/      bind-mounted at /verifier/meta: the build script, the installed-package list
    outputs/   artifacts collected from the declared globs (regular files only)
    build.log  everything the build printed (size-capped)
"""

from __future__ import annotations

import fnmatch
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from verifier.cache import HashingWriter
from verifier.digests import CHUNK
from verifier.errors import InputError, LimitExceeded, SandboxError, where
from verifier.formats.sniff import compression_of, head, is_tar
from verifier.sandbox.archive import unpack
from verifier.sandbox.podman import Podman, last_line
from verifier.sandbox.runtime import ulimit_flags
from verifier.settings import Settings
from verifier.stages import (
    BuildPreparation, BuildStatus, FetchedInputs, InstalledPackage, PreparedEnvironment, RebuildResult, RebuiltFile,
    SandboxLimits, SandboxRecord,
)

META = "/verifier/meta"
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "KILL")
HOSTNAME = "verifier-build"
BUILD_LABEL = "io.verifier.build"  # every build container carries it; its value is Settings.build_label
LOG_CAP = 64 << 20
TAIL_LINES = 40
LineCallback = Callable[[str], None]  # told each build-log line as it arrives (a status line)
LIMIT_PATTERNS = (("No space left on device", "the build filled its disk (workdir size limit)"),
                  ("Cannot allocate memory", "the build ran out of memory (memory limit)"),
                  ("Resource temporarily unavailable", "the build hit the process limit (pids limit)"),
                  ("can't fork", "the build hit the process limit (pids limit)"))


@dataclass(frozen=True)
class BuildLayout:
    root: Path
    workdir: Path
    meta: Path
    outputs: Path
    log: Path
    tmpfs: bool  # workdir is a size-limited tmpfs mount

    @classmethod
    def create(cls, settings: Settings) -> "BuildLayout":
        root = settings.work_dir.resolve() / "builds" / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        for sub in ("workdir", "meta", "outputs"):
            (root / sub).mkdir(parents=True)
        tmpfs = _mount_tmpfs(root / "workdir", settings.sandbox.workdir_size)
        return cls(root, root / "workdir", root / "meta", root / "outputs", root / "build.log", tmpfs)

    def release(self) -> None:
        if self.tmpfs:
            subprocess.run(["umount", "--lazy", str(self.workdir)], capture_output=True)


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "verifier-build", str(path)],
                          capture_output=True)
    return done.returncode == 0


def place_sources(inputs: FetchedInputs, layout: BuildLayout, settings: Settings) -> None:
    for source in inputs.sources:
        if source.pin.unpack:
            if compression_of(source.path) is None and not is_tar(head(source.path)):
                raise InputError(where(source.pin.name, "unpack is true but this is not a tar archive"))
            unpack(source.path, source.pin.name, layout.workdir, settings.unpack)
        else:
            shutil.copyfile(source.path, layout.workdir / source.pin.name)


def build_environment(inputs: FetchedInputs) -> dict[str, str]:
    build = inputs.manifest.build
    env = dict(build.variables)
    env.update({
        "SOURCE_DATE_EPOCH": str(build.source_date_epoch), "TZ": "UTC", "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8", "HOME": "/root", "USER": "root", "LOGNAME": "root",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
    })
    return env


def build_script(inputs: FetchedInputs, preparation: BuildPreparation | None) -> str:
    workdir = inputs.manifest.build.workdir
    lines = ["umask 022"]
    if preparation is not None:
        lines += ["( " + preparation.install_script + " ) > " + META + "/install.log 2>&1 || "
                  "{ tail -n 20 " + META + "/install.log; echo 'verifier: installing the locked packages failed'; exit 97; }"]
    lines += [f"cd '{workdir}' || exit 98", "/bin/sh " + META + "/command.sh", "status=$?"]
    if preparation is not None:
        lines += ["( " + preparation.installed_query + " ) > " + META + "/installed.txt 2>/dev/null"]
    lines += ["exit $status"]
    return "\n".join(lines) + "\n"


def podman_argv(env: PreparedEnvironment, inputs: FetchedInputs, settings: Settings, layout: BuildLayout,
                name: str, preparation: BuildPreparation | None) -> list[str]:
    s = settings.sandbox
    argv = ["--runtime", env.runtime.name, "run", "--name", name, "--label", f"{BUILD_LABEL}={settings.build_label}",
            "--network=none", "--cap-drop=ALL", *[f"--cap-add={c}" for c in CAPABILITIES],
            "--security-opt", "no-new-privileges", "--pids-limit", str(s.pids), "--memory", s.memory,
            "--memory-swap", s.memory, *ulimit_flags(settings), "--hostname", HOSTNAME, "--user", "0:0",
            "--unsetenv-all", "--image-volume", "ignore", "--tmpfs", f"/tmp:rw,size={s.tmpfs_size},mode=1777",
            "--mount", f"type=bind,source={layout.workdir},destination={inputs.manifest.build.workdir}",
            "--mount", f"type=bind,source={layout.meta},destination={META}",
            "--workdir", inputs.manifest.build.workdir, "--entrypoint", "/bin/sh"]
    for mount in preparation.mounts if preparation else ():
        argv += ["--mount", f"type=bind,source={mount.host_path},destination={mount.container_path},readonly=true"]
    for key, value in sorted(build_environment(inputs).items()):
        argv += ["--env", f"{key}={value}"]
    return argv + [env.image, META + "/build.sh"]


class LogCapture:
    """Streams the build's output to the log file (capped) and keeps the last lines."""

    def __init__(self, stream, path: Path, on_line: LineCallback | None = None) -> None:
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.written = 0
        self.on_line = on_line
        self.thread = threading.Thread(target=self._pump, args=(stream, path), daemon=True)
        self.thread.start()

    def _pump(self, stream, path: Path) -> None:
        with open(path, "wb") as log:
            for line in iter(stream.readline, b""):
                if self.written < LOG_CAP:
                    log.write(line)
                    self.written += len(line)
                self.tail.append(line.decode("utf-8", "replace").rstrip("\n"))
                if self.on_line is not None:
                    self.on_line(self.tail[-1])
        stream.close()

    def text(self) -> str:
        self.thread.join(timeout=10)
        return "\n".join(self.tail)


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


def collect_outputs(globs: tuple[str, ...], layout: BuildLayout, settings: Settings) -> tuple[tuple[RebuiltFile, ...], tuple[str, ...], list[str]]:
    found: dict[str, RebuiltFile] = {}
    unmatched, notes, total = [], [], 0
    for pattern in globs:
        matches = sorted(_glob(layout.workdir, pattern))
        if not matches:
            unmatched.append(pattern)
        for rel in matches:
            path = layout.workdir / rel
            if path.is_symlink() or not path.is_file():
                notes.append(f"{rel}: matched {pattern!r} but is not a regular file; not collected")
                continue
            name = path.name
            if name in found:
                raise InputError(where(pattern, f"two outputs share the file name {name!r}"))
            total += path.stat().st_size
            if total > settings.sandbox.output_bytes:
                raise LimitExceeded(where(pattern, f"outputs exceed {settings.sandbox.output_bytes} bytes (SandboxLimits.output_bytes)"))
            found[name] = _copy_out(path, layout.outputs / f"{len(found):04d}", name)
    return tuple(found.values()), tuple(unmatched), notes


def _glob(root: Path, pattern: str) -> list[str]:
    """Relative paths under ``root`` matching ``pattern`` segment by segment; never follows symlinks."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return []
    current = [""]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = []
        for rel in current:
            base = root / rel if rel else root
            if base.is_symlink() or not base.is_dir():
                continue
            for entry in sorted(os.listdir(base)):
                if fnmatch.fnmatchcase(entry, part) and (last or not (base / entry).is_symlink()):
                    nxt.append(f"{rel}/{entry}" if rel else entry)
        current = nxt
    return current


def _copy_out(path: Path, dest: Path, name: str) -> RebuiltFile:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f, open(dest, "wb") as out:
        writer = HashingWriter(out)
        while chunk := f.read(CHUNK):
            writer.write(chunk)
    digest = writer.digest()
    return RebuiltFile(name=name, path=dest, sha256=digest.sha256, size=digest.size)


def read_installed(layout: BuildLayout) -> tuple[InstalledPackage, ...] | None:
    path = layout.meta / "installed.txt"
    if not path.exists():
        return None
    packages = []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0]:
            packages.append(InstalledPackage(*fields))
    return tuple(sorted(packages, key=lambda p: (p.name, p.architecture)))


def rebuild(env: PreparedEnvironment, inputs: FetchedInputs, settings: Settings,
            preparation: BuildPreparation | None = None, on_line: LineCallback | None = None) -> RebuildResult:
    podman = Podman.from_settings(settings)
    layout = BuildLayout.create(settings)
    try:
        return _rebuild_in(layout, podman, env, inputs, settings, preparation, on_line)
    finally:
        layout.release()


def _rebuild_in(layout: BuildLayout, podman: Podman, env: PreparedEnvironment, inputs: FetchedInputs,
                settings: Settings, preparation: BuildPreparation | None,
                on_line: LineCallback | None = None) -> RebuildResult:
    place_sources(inputs, layout, settings)
    (layout.meta / "command.sh").write_text(inputs.manifest.build.command + "\n")
    (layout.meta / "build.sh").write_text(build_script(inputs, preparation))
    name = f"verifier-build-{secrets.token_hex(6)}"
    argv = podman_argv(env, inputs, settings, layout, name, preparation)
    started, started_at = time.monotonic(), time.time()
    exit_status, timed_out, tail = run_container(podman, argv, name, layout, settings.sandbox.build_timeout, on_line)
    seconds = time.monotonic() - started
    record = sandbox_record(env, argv, inputs, settings, layout, name)
    status, reason = _classify(exit_status, timed_out, tail, settings)
    outputs: tuple[RebuiltFile, ...] = ()
    unmatched: tuple[str, ...] = ()
    if status == BuildStatus.SUCCEEDED:
        outputs, unmatched, notes = collect_outputs(inputs.manifest.build.outputs, layout, settings)
        record = replace(record, output_notes=tuple(notes))
        if not outputs:
            status, reason = BuildStatus.NO_OUTPUTS, f"no output matched {', '.join(inputs.manifest.build.outputs)}"
    return RebuildResult(status=status, exit_status=exit_status, outputs=outputs, unmatched_globs=unmatched,
                         log_path=layout.log, log_tail=tail, sandbox=record, seconds=seconds, reason=reason,
                         installed_packages=read_installed(layout) if preparation else None,
                         started_at=started_at)


def _classify(exit_status: int | None, timed_out: bool, tail: str, settings: Settings) -> tuple[BuildStatus, str]:
    if timed_out:
        return BuildStatus.TIMED_OUT, f"the build ran longer than {settings.sandbox.build_timeout:g} s (--build-timeout)"
    if exit_status == 0:
        return BuildStatus.SUCCEEDED, ""
    if exit_status in (125, 126, 127) and "Error:" in tail:
        raise SandboxError(f"podman could not start the build container: {last_line(tail)}")
    limit = _oom_or_limit(tail, exit_status)
    if limit:
        return BuildStatus.LIMIT_EXCEEDED, limit
    if exit_status == 97:
        return BuildStatus.FAILED, "installing the locked packages failed: " + last_line(tail)
    return BuildStatus.FAILED, f"the build command exited with status {exit_status}: {last_line(tail)}"


def sandbox_record(env: PreparedEnvironment, argv: list[str], inputs: FetchedInputs, settings: Settings,
                   layout: BuildLayout, name: str) -> SandboxRecord:
    s = settings.sandbox
    shown = ("podman", *("<container>" if a == name else a for a in argv))
    limits = SandboxLimits(build_timeout=s.build_timeout, memory=s.memory, pids=s.pids, nofile=s.nofile,
                           nproc=s.nproc, tmp_size=s.tmpfs_size,
                           workdir_size=s.workdir_size if layout.tmpfs else "not limited (no tmpfs mount)")
    return SandboxRecord(
        backend="podman", podman_version=env.podman_version, runtime=env.runtime.name,
        runtime_reason=env.runtime.reason, network="none", argv=shown, env=build_environment(inputs),
        hostname=HOSTNAME, user="0:0", umask="022", workdir=inputs.manifest.build.workdir,
        capabilities=CAPABILITIES, limits=limits)
