"""External tools verifier uses, as plain data: name -> (Debian package, purpose, essential).

``require`` is how code finds a tool it needs: a missing tool is an infrastructure error
(exit 5) naming the package that provides it, never an input error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import ToolMissing, where


@dataclass(frozen=True)
class Tool:
    name: str
    package: str
    purpose: str
    essential: bool = False
    version_args: tuple[str, ...] = ("--version",)


TOOLS: tuple[Tool, ...] = (
    Tool("podman", "podman", "runs every build in a sandbox", essential=True),
    Tool("runc", "runc", "OCI runtime for podman where crun cannot start containers", version_args=("--version",)),
    Tool("crun", "crun", "podman's default OCI runtime on many hosts"),
    Tool("mmdebstrap", "mmdebstrap", "builds Debian environment archives (verifier env build)"),
    Tool("gpgv", "gpgv", "checks the archive's signed Release file (env build, verifier debian) and .buildinfo signatures"),
    Tool("dpkg-deb", "dpkg", "building .deb fixtures in the tests", version_args=("--version",)),
    Tool("diffoscope", "diffoscope (pip) or diffoscope-minimal",
         "fallback explanations for formats verifier does not read natively"),
    Tool("zstd", "zstd", "compressed environment archives"),
    Tool("xz", "xz-utils", "compressed archives"),
    Tool("openssl", "openssl", "hashing reference in benchmarks", version_args=("version",)),
    Tool("gpg", "gnupg", "GnuPG report signing (--signing-key gnupg:FINGERPRINT)"),
    Tool("unsquashfs", "squashfs-tools", "reading squashfs images in the auditor", version_args=("-version",)),
    Tool("rpmbuild", "rpm", "building RPM fixtures in the tests"),
    Tool("chromium", "chromium", "the HTML report check in the tests"),
    Tool("uv", "uv (pip)", "resolves the build packages of verifier pypi as of a release's upload time"),
)


def find(name: str) -> str | None:
    """The tool installed beside this interpreter (a venv's bin/, e.g. pip's diffoscope) first,
    then PATH: running .venv/bin/verifier without activating the venv still finds the venv's
    tools."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLS}


def missing(name: str) -> ToolMissing:
    """The error for tool ``name`` not being installed, naming the package that provides it."""
    tool = BY_NAME.get(name)
    return ToolMissing(where(name, f"not installed (install {tool.package}; used for {tool.purpose})"
                                   if tool else "not installed"))


def require(name: str) -> str:
    """The path of tool ``name`` (see ``find``), or ``ToolMissing`` naming its package."""
    path = find(name)
    if path is None:
        raise missing(name)
    return path


def probe(tool: Tool) -> tuple[bool, str]:
    path = find(tool.name)
    if path is None:
        return False, ""
    try:
        done = subprocess.run([path, *tool.version_args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return True, "(version unknown)"
    first = (done.stdout or done.stderr).strip().splitlines()
    return True, first[0][:80] if first else ""
