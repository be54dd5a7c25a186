"""The host side of one build: its directories, and the sources placed in them.

Layout of one build under ``<work dir>/builds/<id>/``:
    workdir/   mounted at the manifest's workdir; a size-limited tmpfs (nosuid, nodev) when we can mount one
    meta/      mounted at /verifier/meta: the build script, the installed-package list
    outputs/   artifacts collected from the declared globs (plain regular files only)
    build.log  everything the build printed (size-capped)
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import InputError, where
from verifier.formats.sniff import compression_of, head, is_tar
from verifier.sandbox.archive import unpack
from verifier.settings import Settings
from verifier.stages import FetchedInputs


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
    """A size-limited tmpfs for the build directory; setuid bits and device nodes do nothing on it."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755,nosuid,nodev", "verifier-build",
                           str(path)], capture_output=True)
    return done.returncode == 0


def place_sources(inputs: FetchedInputs, layout: BuildLayout, settings: Settings) -> None:
    for source in inputs.sources:
        if source.pin.unpack:
            if compression_of(source.path) is None and not is_tar(head(source.path)):
                raise InputError(where(source.pin.name, "unpack is true but this is not a tar archive"))
            unpack(source.path, source.pin.name, layout.workdir, settings.unpack)
        else:
            shutil.copyfile(source.path, layout.workdir / source.pin.name)
