"""Settings passed explicitly through the pipeline (no global state)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verifier"


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0  # seconds to establish a connection
    read_timeout: float = 30.0  # seconds without a byte before giving up
    total_deadline: float = 3600.0  # seconds for one file, all retries included (--download-deadline)
    min_rate: float = 1024.0  # bytes/s averaged over rate_window, else the transfer fails (--min-download-rate)
    rate_window: float = 60.0  # seconds
    retries: int = 3  # attempts after the first, each resuming with a Range request
    max_redirects: int = 5
    allow_private_addresses: bool = False  # loopback/private hosts (--allow-private-addresses)
    manifest_url_may_be_private: bool = True  # the manifest URL the user named (False: farm workers, whose submitters are elsewhere)


@dataclass(frozen=True)
class SandboxLimits:
    build_timeout: float = 3600.0  # seconds of wall time for the build command
    memory: str = "4g"  # podman --memory
    pids: int = 4096  # podman --pids-limit
    nofile: int = 16384  # --ulimit nofile (capped at this process's hard limit)
    nproc: int = 16384  # --ulimit nproc (higher values are refused by runc on some hosts)
    output_bytes: int = 8 << 30  # total bytes of collected outputs
    max_outputs: int = 50_000  # files collected from the output globs (and matches in one directory)
    tmpfs_size: str = "2g"  # size of /tmp inside the sandbox
    workdir_size: str = "8g"  # size of the tmpfs holding the build directory


@dataclass(frozen=True)
class UnpackLimits:
    max_expanded_bytes: int = 16 << 30  # hard cap on bytes unpacked from one archive
    max_ratio: int = 200  # expanded bytes per compressed byte
    max_members: int = 200_000
    max_name_length: int = 4096
    max_depth: int = 8  # nesting of archives inside archives
    max_sparse_entries: int = 100_000  # sparse-map entries (GNU tar) over all members of one archive


@dataclass(frozen=True)
class Settings:
    cache_dir: Path = field(default_factory=default_cache_dir)
    work_dir: Path = field(default_factory=lambda: Path("verifier-work"))
    offline: bool = False
    progress: bool = False  # show progress bars (on a terminal)
    podman: str = "podman"  # the podman executable
    oci_runtime: str = "auto"  # "auto", "runc", "crun", or a path
    build_label: str = "1"  # value of the io.verifier.build label on build containers (lets a caller find its own)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    unpack: UnpackLimits = field(default_factory=UnpackLimits)
