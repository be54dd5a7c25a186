"""`verifier pypi NAME==VERSION`: rebuild a release's wheels from its sdist and compare (docs/pypi.md)."""

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


def pypi_command(
    release: Annotated[str, typer.Argument(help="The release, NAME==VERSION.")],
    wheel: Annotated[Optional[list[str]], typer.Option("--wheel", help="Check this wheel (file name); repeatable. Default: all the release's wheels (a compiled one is INCONCLUSIVE).")] = None,
    index_url: Annotated[Optional[str], typer.Option("--index-url", help="The package index (simple API). Default: pip's own default index; pip's configuration is never read.")] = None,
    environment: Annotated[Optional[Path], typer.Option("--environment", help="A rootfs archive with python3 to build in (default: Debian 12 with python3, built with env build and cached).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Where to write the JSON report (default: <work-dir>/<name>-<version>/report.json).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Summary format: text, markdown, html, json or junit.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the summary to this file instead of standard output.")] = None,
    no_explain: Annotated[bool, typer.Option("--no-explain", help="Do not deep-diff differing wheels.")] = False,
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
    """Verify that a Python release's wheels rebuild bit for bit from its sdist."""
    from verifier.cache import ContentCache  # imported late: keeps `verifier --help` fast
    from verifier.pypi.run import PypiOptions, verify_pypi
    from verifier.sandbox.backends import open_sandbox

    settings = settings_from_options(cache_dir=cache_dir, work_dir=work_dir, offline=offline,
                                     runtime=runtime, build_timeout=build_timeout, unpack_limit=unpack_limit,
                                     allow_private_addresses=allow_private_addresses,
                                     download_deadline=download_deadline, min_download_rate=min_download_rate)
    options = PypiOptions(requirement=release, wheels=tuple(wheel or ()), index_url=index_url,
                          environment=environment, explain=not no_explain, report_path=report)
    outcome = verify_pypi(options, settings, open_sandbox(settings), ContentCache(settings.cache_dir))
    emit_report(outcome.report, outcome.report_path, fmt=fmt, output=output, signing_keys=signing_key or [], badge=None)
    typer.echo(f"verdict: {outcome.verdict.verdict.value}; report: {outcome.report_path}", err=True)
    return outcome.verdict.verdict


def register(app: typer.Typer) -> None:
    app.command("pypi")(pypi_command)
