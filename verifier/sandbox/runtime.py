"""Which OCI runtime podman should use, decided once per machine and recorded with a reason.

``--runtime auto`` (the default) uses podman's default runtime when it can start a
container here; when it cannot (on some hosts crun fails with "cgroups in hybrid mode")
and runc is installed, it uses runc. The decision is cached in the cache directory,
keyed by podman's version, so warm runs do not probe again.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
from pathlib import Path

from verifier import cache_fs
from verifier.atomic import write_bytes
from verifier.errors import SandboxError
from verifier.sandbox.podman import Podman, last_line
from verifier.settings import Settings
from verifier.stages import RuntimeChoice

PROBE_FILE = "runtime-choice.json"
PODMAN_HOME = "podman-home"


def ulimit_flags(settings: Settings) -> list[str]:
    """podman's default ulimits are refused on some hosts: always pass explicit ones,
    never above what this process may itself have (a higher one is refused at start)."""
    nofile = _capped(settings.sandbox.nofile, resource.RLIMIT_NOFILE)
    nproc = _capped(settings.sandbox.nproc, resource.RLIMIT_NPROC)
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def _capped(wanted: int, which: int) -> int:
    hard = resource.getrlimit(which)[1]
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


def choose_runtime(podman: Podman, settings: Settings, probe_image: str | None = None) -> RuntimeChoice:
    if settings.oci_runtime != "auto":
        return RuntimeChoice(settings.oci_runtime, "set by --runtime")
    key = podman.version()
    cached = _read_cached(settings.cache_dir / PROBE_FILE, key)
    if cached is not None:
        return cached
    choice = _probe(podman, settings, probe_image)
    if probe_image is not None:
        _write_cached(settings.cache_dir / PROBE_FILE, key, choice)
    return choice


def _default_runtime(podman: Podman, settings: Settings) -> str:
    done = podman.run(["info", "--format", "{{.Host.OCIRuntime.Name}}"], check=False, what="podman info",
                      home=_podman_home(settings))
    if done.returncode != 0:
        raise SandboxError(f"podman: cannot start: {last_line(done.stderr)}")
    return done.stdout.strip() or "crun"


def _probe(podman: Podman, settings: Settings, image: str | None) -> RuntimeChoice:
    default = _default_runtime(podman, settings)
    if default == "runc":
        return RuntimeChoice("runc", "podman's default runtime")
    if image is None:
        return RuntimeChoice(default, "podman's default runtime (not probed: no image yet)")
    args = ["--runtime", default, "run", "--rm", "--network=none", *ulimit_flags(settings),
            "--entrypoint", "/bin/sh", image, "-c", "true"]
    done = podman.run(args, check=False, timeout=60, what="runtime probe")
    if done.returncode == 0:
        return RuntimeChoice(default, f"podman's default runtime {default} starts containers here")
    if shutil.which("runc"):
        return RuntimeChoice("runc", f"{default} failed ({last_line(done.stderr)}); using runc")
    return RuntimeChoice(default, f"{default} failed ({last_line(done.stderr)}) and runc is not installed")


def _podman_home(settings: Settings) -> Path:
    """podman's HOME under the cache: a real directory, never a planted link elsewhere."""
    with cache_fs.directory(settings.cache_dir, PODMAN_HOME):
        return settings.cache_dir / PODMAN_HOME


def _read_cached(path: Path, key: str) -> RuntimeChoice | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # missing, or a planted link: probe again (the write replaces it)
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            doc = json.loads(f.read(64 << 10))
        if doc.get("podman_version") == key:
            return RuntimeChoice(doc["name"], doc["reason"] + " (cached decision)")
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    return None


def _write_cached(path: Path, key: str, choice: RuntimeChoice) -> None:
    doc = {"podman_version": key, "name": choice.name, "reason": choice.reason}
    write_bytes(path, json.dumps(doc).encode())
