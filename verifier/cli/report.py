"""`verifier report verify|render|sign`: check, re-render and sign saved reports offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from verifier.cli.output import write_atomically
from verifier.files import read_limited
from verifier.errors import InputError, IntegrityError, where
from verifier.outcome import CommandStatus, VerificationResult

if TYPE_CHECKING:
    from verifier.attestation import VerifiedAttestation
    from verifier.render import ReportFormat

MAX_ENVELOPE_READ = 16 << 20

report_app = typer.Typer(name="report", help="Verify, render or sign a saved verify report.",
                         no_args_is_help=True)


def _read_limited(path: Path, limit: int, what: str) -> bytes:
    return read_limited(path, limit, what)


def _print_verified(path: Path, v: VerifiedAttestation) -> None:
    from verifier.render.escape import clean

    typer.echo(f"{path}: signature verified by {len(v.keyids)} key(s): {clean(', '.join(v.keyids))}")
    typer.echo(f"  verifier:    {clean(v.verifier_id)}")
    typer.echo(f"  resource:    {clean(v.resource_uri)}")
    typer.echo(f"  verified at: {v.time_verified}")
    for name, sha in v.subjects:
        mark = "  <- --artifact" if v.artifact == (name, sha) else ""
        typer.echo(f"  subject:     {clean(name)} sha256:{sha}{mark}")
    if v.report_sha256:
        typer.echo(f"  report:      sha256:{v.report_sha256}")
    typer.echo(f"  levels:      {clean(', '.join(v.levels)) or '(none)'}")
    typer.echo(f"  result:      {v.result}")


def _check_report_digest(report: Path, attested: str | None) -> None:
    from verifier.report.codec import MAX_REPORT_BYTES

    actual = hashlib.sha256(_read_limited(report, MAX_REPORT_BYTES, "report")).hexdigest()
    if actual != attested:
        raise IntegrityError(where(report, f"sha256 {actual} is not the attested report's ({attested})"))


@report_app.command("verify")
def verify_command(
    envelope: Annotated[Path, typer.Argument(help="Signed report: a DSSE envelope (*.intoto.json).")],
    key: Annotated[list[Path], typer.Option("--key", help="Trusted Ed25519 public key (PEM); repeatable.")],
    threshold: Annotated[int, typer.Option("--threshold", help="Distinct trusted keys that must have signed.")] = 1,
    artifact: Annotated[Optional[Path], typer.Option("--artifact", help="Check this file's sha256 is a subject.")] = None,
    resource_uri: Annotated[Optional[str], typer.Option("--resource-uri", help="Expected release manifest URL.")] = None,
    verifier_id: Annotated[Optional[str], typer.Option("--verifier-id", help="Expected verifier id (default: verifier's own).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Check this JSON report is the one attested.")] = None,
) -> VerificationResult:
    """Check a signed report offline; exit 0 if PASSED, 1 if FAILED, 4 if tampered."""
    from verifier.attestation import DEFAULT_VERIFIER_ID, verify_envelope

    data = _read_limited(envelope, MAX_ENVELOPE_READ, "envelope")
    verified = verify_envelope(data, list(key), threshold, artifact=artifact,
                               expected_resource_uri=resource_uri,
                               expected_verifier_id=verifier_id or DEFAULT_VERIFIER_ID,
                               place=str(envelope))
    if report is not None:
        _check_report_digest(report, verified.report_sha256)
    _print_verified(envelope, verified)
    return verified.result


@report_app.command("render")
def render_command(
    report: Annotated[Path, typer.Argument(help="A saved JSON verify report.")],
    fmt: Annotated[str, typer.Option("--format", help="text, markdown, html, json or junit.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write here instead of standard output.")] = None,
    badge: Annotated[Optional[Path], typer.Option("--badge", help="Also write a shields.io endpoint badge JSON here.")] = None,
) -> CommandStatus:
    """Re-render a saved report in another format."""
    from verifier.render import render, render_badge
    from verifier.report.codec import load_report

    chosen = _format(fmt)
    doc = load_report(report)
    text = render(doc, chosen)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(output, text.encode("utf-8"))
    if badge is not None:
        write_atomically(badge, render_badge(doc).json().encode())
    return CommandStatus.DONE


def _format(fmt: str) -> ReportFormat:
    from verifier.render import ReportFormat

    try:
        return ReportFormat(fmt)
    except ValueError:
        names = ", ".join(f.value for f in ReportFormat)
        raise InputError(f"--format {fmt!r}: unknown format (choose from {names})") from None


@report_app.command("sign")
def sign_command(
    report: Annotated[Path, typer.Argument(help="A saved JSON verify report.")],
    signing_key: Annotated[list[str], typer.Option("--signing-key", help="Key URI, e.g. file:key; repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the envelope (*.intoto.json).")],
    time_verified: Annotated[Optional[str], typer.Option("--time-verified", help="timeVerified (default: the report's finish time).")] = None,
    verifier_id: Annotated[Optional[str], typer.Option("--verifier-id", help="predicate verifier.id.")] = None,
    policy_uri: Annotated[Optional[str], typer.Option("--policy-uri", help="predicate policy.uri.")] = None,
    append_to: Annotated[Optional[Path], typer.Option("--append-to", help="Co-sign this envelope (same statement).")] = None,
) -> CommandStatus:
    """Sign a saved report as an in-toto statement with a SLSA VSA predicate (FAILED too)."""
    from verifier import attestation as att
    from verifier.report.codec import MAX_REPORT_BYTES, parse_report

    data = _read_limited(report, MAX_REPORT_BYTES, "report")
    doc, digest = parse_report(data, report), hashlib.sha256(data).hexdigest()  # one read: the bytes signed are the bytes checked
    existing = _read_limited(append_to, MAX_ENVELOPE_READ, "envelope") if append_to is not None else None
    request = att.SigningRequest(tuple(signing_key), time_verified, policy_uri or att.DEFAULT_POLICY_URI,
                                 verifier_id or att.DEFAULT_VERIFIER_ID, existing, str(append_to))
    signed = att.sign_report(doc, digest, request)
    write_atomically(out, signed.envelope)
    typer.echo(f"signed {report} ({signed.result}): {out}")
    return CommandStatus.DONE


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
