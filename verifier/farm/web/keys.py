"""The farm's public keys, offered for download so anyone can check its signed reports
(``verifier report verify --key farm-a.pem --key farm-b.pem --threshold 2``).

Each file is checked on start-up with the same loader `report verify` uses (Ed25519 PEM,
or a GnuPG key exported as JSON; weak keys refused) and served as its exact bytes, under
a name made from its key id, never from its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verifier.attestation.keys import MAX_KEY_BYTES, load_public_key
from verifier.errors import InputError, where
from verifier.files import read_limited


@dataclass(frozen=True)
class PublicKeyFile:
    keyid: str
    data: bytes

    @property
    def file_name(self) -> str:
        return f"{self.keyid}.json" if self.data.lstrip().startswith(b"{") else f"{self.keyid}.pem"

    @property
    def media_type(self) -> str:
        return "application/json" if self.file_name.endswith(".json") else "application/x-pem-file"


def load_keys(paths: list[Path]) -> tuple[PublicKeyFile, ...]:
    keys: dict[str, PublicKeyFile] = {}
    for path in paths:
        keyid = load_public_key(path).keyid
        if not all(c in "0123456789abcdefABCDEF" for c in keyid):
            raise InputError(where(path, "unexpected key id"))
        keys.setdefault(keyid, PublicKeyFile(keyid, read_limited(path, MAX_KEY_BYTES, "public key")))
    return tuple(keys.values())
