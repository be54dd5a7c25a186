"""`verifier debian`: verify one official Debian package from its name or its .buildinfo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.options import (
    AllowPrivate, BuildTimeout, CacheDir, DownloadDeadline, MinDownloadRate, Offline, Runtime, UnpackLimit,
    WorkDir, settings_from_options,
)
from verifier.cli.output import emit_report
from verifier.outcome import Verdict


def debian_command(
    package: Annotated[Optional[str], typer.Argument(help="SOURCE or SOURCE=VERSION (default: the archive's newest).")] = None,
    buildinfo: Annotated[Optional[str], typer.Option("--buildinfo", help="The official build's .buildinfo (path or URL): rebuild in exactly its environment.")] = None,
    buildinfo_keyring: Annotated[Optional[Path], typer.Option("--buildinfo-keyring", help="Check the .buildinfo's signature against this keyring (gpgv).")] = None,
    binary: Annotated[Optional[list[str]], typer.Option("--binary", help="Binary package to verify (repeatable; default: all of the source's, arch:all and this host's arch).")] = None,
    archive: Annotated[Optional[str], typer.Option("--archive", help="Debian archive or snapshot URL (default: this machine's apt sources).")] = None,
    suite: Annotated[str, typer.Option("--suite", help="The archive's suite.")] = "bookworm",
    archive_keyring: Annotated[Optional[Path], typer.Option("--archive-keyring", help="Keyring the archive's InRelease must verify against (default: debian-archive-keyring's).")] = None,
    env: Annotated[Optional[Path], typer.Option("--env", help="A base environment archive (default: one made for the job).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Where to write the JSON report (default: <work-dir>/<source>-<version>/report.json).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Summary format: text, markdown, html, json or junit.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the summary to this file instead of standard output.")] = None,
    normalize: Annotated[Optional[str], typer.Option("--normalize", help="Normalisers NAME[,NAME…] for EQUIVALENT (docs/normalizers.md).")] = None,
    no_explain: Annotated[bool, typer.Option("--no-explain", help="Do not deep-diff differing artifacts.")] = False,
    signing_key: Annotated[Optional[list[str]], typer.Option("--signing-key", help="Sign the report: key URI (e.g. file:key.pem); repeatable.")] = None,
    cache_dir: CacheDir = None,
    work_dir: WorkDir = None,
    offline: Offline = False,
    runtime: Runtime = "auto",
    build_timeout: BuildTimeout = None,
    unpack_limit: UnpackLimit = None,
    allow_private_addresses: AllowPrivate = False,
    download_deadline: DownloadDeadline = None,
    min_download_rate: MinDownloadRate = None,
) -> Verdict:
    """Verify an official Debian package: its files authenticated through the archive's
    signed chain, rebuilt like Debian's build daemons with the network off, compared."""
    from verifier.cache import ContentCache  # imported late: keeps `verifier --help` fast
    from verifier.debian.run import DebianRequest, verify_debian
    from verifier.pipeline import VerifyOptions
    from verifier.sandbox.backends import open_sandbox
    from verifier.sandbox.podman import Podman

    settings = settings_from_options(cache_dir=cache_dir, work_dir=work_dir, offline=offline,
                                     runtime=runtime, build_timeout=build_timeout, unpack_limit=unpack_limit,
                                     allow_private_addresses=allow_private_addresses,
                                     download_deadline=download_deadline, min_download_rate=min_download_rate)
    normalizers = tuple(n.strip() for n in (normalize or "").split(",") if n.strip())
    options = VerifyOptions(normalizers=normalizers, explain=not no_explain, report_path=report)
    request = DebianRequest(package, buildinfo, buildinfo_keyring, tuple(binary or ()), archive, suite, env,
                            **({"archive_keyring": archive_keyring} if archive_keyring else {}))
    outcome = verify_debian(request, settings, ContentCache(settings.cache_dir), open_sandbox(settings),
                            Podman.from_settings(settings), options)
    emit_report(outcome.report, outcome.report_path, fmt=fmt, output=output, signing_keys=signing_key or [], badge=None)
    typer.echo(f"verdict: {outcome.verdict.verdict.value}; report: {outcome.report_path}", err=True)
    return outcome.verdict.verdict


def register(app: typer.Typer) -> None:
    app.command("debian")(debian_command)
