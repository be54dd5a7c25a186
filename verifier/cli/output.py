"""Writing a verify report's readable forms, signature and badge (shared by CLI commands)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer

from verifier.atomic import write_bytes as write_atomically
from verifier.errors import InputError
from verifier.report.model import Report


def emit_report(report: Report, report_path: Path, *, fmt: str, output: Path | None,
                signing_keys: list[str], badge: Path | None) -> None:
    from verifier.render import ReportFormat, render, render_badge

    try:
        chosen = ReportFormat(fmt)
    except ValueError:
        names = ", ".join(f.value for f in ReportFormat)
        raise InputError(f"--format {fmt!r}: unknown format (choose from {names})") from None
    text = render(report, chosen)
    if output is None:
        typer.echo(text)
    else:
        write_atomically(output, text.encode("utf-8"))
    if badge is not None:
        write_atomically(badge, render_badge(report).json().encode())
    if signing_keys:
        sign_report(report, report_path, signing_keys)


def sign_report(report: Report, report_path: Path, signing_keys: list[str]) -> Path:
    from verifier import attestation
    from verifier.report.codec import report_bytes

    digest = hashlib.sha256(report_bytes(report)).hexdigest()
    signed = attestation.sign_report(report, digest, attestation.SigningRequest(tuple(signing_keys)))
    path = report_path.with_name(report_path.stem + ".intoto.json")
    write_atomically(path, signed.envelope)
    typer.echo(f"signed report: {path}", err=True)
    return path
