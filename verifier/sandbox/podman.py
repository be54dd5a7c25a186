"""The one way verifier runs podman: argv built by us, output captured, failures in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import SandboxError
from verifier.settings import Settings


@dataclass(frozen=True)
class Podman:
    executable: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "Podman":
        found = shutil.which(settings.podman)
        if found is None:
            raise SandboxError(f"{settings.podman}: podman not found (install it: apt-get install podman runc)")
        return cls(found)

    def run(self, args: list[str], *, check: bool = True, timeout: float = 600, what: str = "podman",
            home: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run podman; ``home`` confines what helper tools podman starts write to $HOME
        (`podman info` runs `rpm -q`, which creates ~/.rpmdb where rpm is installed)."""
        argv = [self.executable, *args]
        env = None
        if home is not None:
            home.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "HOME": str(home)}
        try:
            done = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise SandboxError(f"{what}: `podman {args[0]}` did not finish within {timeout:.0f} s") from None
        except OSError as exc:
            raise SandboxError(f"{self.executable}: cannot run podman: {exc.strerror}") from None
        if check and done.returncode != 0:
            raise SandboxError(f"{what}: podman {args[0]} failed (exit {done.returncode}): {last_line(done.stderr)}")
        return done

    def version(self) -> str:
        return self.run(["version", "--format", "{{.Client.Version}}"], what="podman version").stdout.strip()


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"
