"""`verifier verify`: fetch, rebuild, compare, decide, report — for one release manifest."""

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


def verify_command(
    manifest: Annotated[str, typer.Argument(help="URL or path of the release manifest (release.json).")],
    report: Annotated[Optional[Path], typer.Option("--report", help="Where to write the JSON report (default: <work-dir>/<name>-<version>/report.json).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Summary format: text, markdown, html, json or junit.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the summary to this file instead of standard output.")] = None,
    normalize: Annotated[Optional[str], typer.Option("--normalize", help="Normalisers NAME[,NAME…] for EQUIVALENT (docs/normalizers.md).")] = None,
    accept_equivalent: Annotated[bool, typer.Option("--accept-equivalent", help="Let EQUIVALENT artifacts pass (exit 0).")] = False,
    no_explain: Annotated[bool, typer.Option("--no-explain", help="Do not deep-diff differing artifacts.")] = False,
    signing_key: Annotated[Optional[list[str]], typer.Option("--signing-key", help="Sign the report: key URI (e.g. file:key.pem); repeatable.")] = None,
    badge: Annotated[Optional[Path], typer.Option("--badge", help="Also write a shields.io endpoint badge JSON here.")] = None,
    rebuild_env: Annotated[bool, typer.Option("--rebuild-env", help="First rebuild the environment from its lock (manifest environment.lock) and compare digests (docs/environments.md).")] = False,
    env_lock: Annotated[Optional[Path], typer.Option("--env-lock", help="The environment's env.lock.json, instead of the manifest's (implies --rebuild-env).")] = None,
    env_mirror: Annotated[Optional[str], typer.Option("--env-mirror", help="Another mirror of the environment lock's archive (with --rebuild-env).")] = None,
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
    """Verify that a release's artifacts rebuild bit for bit from its pinned inputs."""
    from verifier.cache import ContentCache  # imported late: keeps `verifier --help` fast
    from verifier.environments.step import EnvCheckOptions
    from verifier.pipeline import VerifyOptions, verify
    from verifier.sandbox.backends import open_sandbox

    settings = settings_from_options(cache_dir=cache_dir, work_dir=work_dir, offline=offline,
                                     runtime=runtime, build_timeout=build_timeout, unpack_limit=unpack_limit,
                                     allow_private_addresses=allow_private_addresses,
                                     download_deadline=download_deadline, min_download_rate=min_download_rate)
    normalizers = tuple(n.strip() for n in (normalize or "").split(",") if n.strip())
    env_check = EnvCheckOptions(env_lock, env_mirror) if rebuild_env or env_lock is not None else None
    options = VerifyOptions(normalizers=normalizers, accept_equivalent=accept_equivalent,
                            explain=not no_explain, report_path=report, rebuild_env=env_check)
    outcome = verify(manifest, settings, open_sandbox(settings), ContentCache(settings.cache_dir), options)
    emit_report(outcome.report, outcome.report_path, fmt=fmt, output=output,
                signing_keys=signing_key or [], badge=badge)
    typer.echo(f"verdict: {outcome.verdict.verdict.value}; report: {outcome.report_path}", err=True)
    return outcome.verdict.verdict


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
