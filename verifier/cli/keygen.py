"""`verifier keygen`: write an Ed25519 key pair for signing reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.outcome import CommandStatus


def keygen_command(
    out: Annotated[Path, typer.Option("--out", help="Private key path; the public key goes to OUT.pub.")],
    gpg: Annotated[Optional[str], typer.Option("--gpg", help="Instead: export this GnuPG key (fingerprint) as a public key file at OUT.")] = None,
) -> CommandStatus:
    """Generate an Ed25519 signing key (PEM, mode 0600) and its public key (OUT.pub)."""
    from verifier.attestation import generate_keypair

    if gpg is not None:
        from verifier.attestation.gpg import export_public_key

        keyid = export_public_key(gpg, out)
        typer.echo(f"public key: {out} (give to verifiers: --key {out}; sign with --signing-key gnupg:{gpg})")
        typer.echo(f"keyid:      {keyid}")
        return CommandStatus.DONE

    public = out.with_name(out.name + ".pub")
    keyid = generate_keypair(out, public)
    typer.echo(f"private key: {out} (mode 0600; sign with --signing-key file:{out})")
    typer.echo(f"public key:  {public} (give to verifiers: --key {public})")
    typer.echo(f"keyid:       {keyid}")
    return CommandStatus.DONE


def register(app: typer.Typer) -> None:
    app.command("keygen")(keygen_command)
