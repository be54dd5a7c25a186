"""Options shared by several commands, and the one function turning them into Settings."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.errors import InputError
from verifier.settings import FetchLimits, SandboxLimits, Settings, UnpackLimits

CacheDir = Annotated[Optional[Path], typer.Option("--cache-dir", help="Content-addressed cache (default: $XDG_CACHE_HOME/verifier).")]
WorkDir = Annotated[Optional[Path], typer.Option("--work-dir", help="Where builds, logs and reports go (default: ./verifier-work).")]
Offline = Annotated[bool, typer.Option("--offline", help="Use only the cache; never touch the network.")]
Runtime = Annotated[str, typer.Option("--runtime", help="OCI runtime for podman: auto, runc, crun or a path.")]
UnpackLimit = Annotated[Optional[list[str]], typer.Option(
    "--unpack-limit", metavar="NAME=N",
    help="Change an unpack budget (max_expanded_bytes, max_ratio, max_members, max_name_length, max_depth, "
         "max_sparse_entries); repeatable. See docs/compare.md.")]
BuildTimeout = Annotated[Optional[float], typer.Option("--build-timeout", help="Seconds of wall time the build may take.")]
AllowPrivate = Annotated[bool, typer.Option("--allow-private-addresses", help="Let URLs reach loopback and private addresses (docs/network-policy.md).")]
DownloadDeadline = Annotated[Optional[float], typer.Option("--download-deadline", help="Seconds one download may take, retries included (default 3600).")]
MinDownloadRate = Annotated[Optional[float], typer.Option("--min-download-rate", help="Bytes/s a download must average over 60 s (default 1024; 0: no minimum).")]


def settings_from_options(
    *,
    cache_dir: Path | None = None,
    work_dir: Path | None = None,
    offline: bool = False,
    runtime: str = "auto",
    build_timeout: float | None = None,
    unpack_limit: list[str] | None = None,
    allow_private_addresses: bool = False,
    download_deadline: float | None = None,
    min_download_rate: float | None = None,
) -> Settings:
    base = Settings()
    sandbox = base.sandbox
    if build_timeout is not None:
        if build_timeout <= 0:
            raise InputError(f"--build-timeout: must be positive, not {build_timeout}")
        sandbox = dataclasses.replace(sandbox, build_timeout=build_timeout)
    fetch = fetch_limits(base.fetch, allow_private_addresses, download_deadline, min_download_rate)
    return dataclasses.replace(
        base,
        fetch=fetch,
        cache_dir=cache_dir or base.cache_dir,
        work_dir=work_dir or base.work_dir,
        offline=offline,
        oci_runtime=runtime,
        progress=sys.stderr.isatty(),
        sandbox=sandbox if isinstance(sandbox, SandboxLimits) else base.sandbox,
        unpack=unpack_limits(unpack_limit),
    )


def unpack_limits(pairs: list[str] | None) -> UnpackLimits:
    """``--unpack-limit NAME=N`` options applied to the default budgets."""
    limits, names = UnpackLimits(), {f.name for f in dataclasses.fields(UnpackLimits)}
    changes: dict[str, int] = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if name not in names or not value.isdigit() or int(value) <= 0:
            raise InputError(f"--unpack-limit {pair!r}: expected NAME=N with N > 0 and NAME one of "
                             f"{', '.join(sorted(names))}")
        changes[name] = int(value)
    return dataclasses.replace(limits, **changes)


def fetch_limits(base: FetchLimits, allow_private: bool, deadline: float | None, min_rate: float | None) -> FetchLimits:
    if deadline is not None and not deadline > 0:
        raise InputError(f"--download-deadline: must be positive, not {deadline}")
    if min_rate is not None and not min_rate >= 0:
        raise InputError(f"--min-download-rate: must be zero or positive, not {min_rate}")
    return dataclasses.replace(
        base,
        allow_private_addresses=allow_private,
        total_deadline=base.total_deadline if deadline is None else deadline,
        min_rate=base.min_rate if min_rate is None else min_rate,
    )


def parse_variables(pairs: list[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--var {pair!r}: expected NAME=VALUE")
        variables[name] = value
    return variables
