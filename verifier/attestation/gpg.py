"""GnuPG keys, through securesystemslib's GPGSigner and GPGKey (only where gpg is installed).

Signing: ``--signing-key gnupg:KEYID`` (the 40-hex fingerprint; the keyring is gpg's
default or $GNUPGHOME). Verifying offline: ``verifier keygen --gpg KEYID --out key.json``
exports the public key as JSON (securesystemslib's key dict), which ``--key`` accepts
like a PEM file. Ed25519 GnuPG keys get the same small-order check as PEM keys.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
from securesystemslib._gpg import exceptions as gpg_exceptions  # what GPGSigner itself lets through
from securesystemslib.exceptions import UnsupportedLibraryError
from securesystemslib.signer import GPGKey, GPGSigner, Key, Signer

from verifier.atomic import write_bytes
from verifier.attestation.ed25519 import weak_key_reason
from verifier.errors import InputError, where
from verifier.manifest import strict_json_loads
from verifier.tools import find, missing

FORMAT = "verifier-gpg-public-key-v1"
KEYID_RE = re.compile(r"^[0-9a-fA-F]{40}$")
IMPORT_ERRORS = (ValueError, OSError, subprocess.SubprocessError, gpg_exceptions.PacketParsingError,
                 gpg_exceptions.PacketVersionNotSupportedError, gpg_exceptions.SignatureAlgorithmNotSupportedError)


_TEXT = {"type": "string"}
KEY_FILE = jsonschema.Draft202012Validator({  # what GPGKey.from_dict needs, checked before it is called
    "type": "object", "required": ["format", "keyid", "key"],
    "properties": {
        "format": {"const": FORMAT}, "keyid": _TEXT,
        "key": {"type": "object", "required": ["keytype", "scheme", "keyval"],
                "properties": {"keytype": _TEXT, "scheme": _TEXT,
                               "keyval": {"type": "object", "required": ["public"],
                                          "properties": {"public": {"type": "object"}}}}},
    },
})


def _keyid(text: str, place: str) -> str:
    if not KEYID_RE.match(text):
        raise InputError(where(place, "a GnuPG key is named by its 40-hex-digit fingerprint"))
    return text.lower()


def _import(keyid: str, place: str) -> tuple[str, Key]:
    if find("gpg") is None and find("gpg2") is None:  # securesystemslib runs gpg2, else gpg
        raise missing("gpg")
    try:
        return GPGSigner.import_(keyid)
    except UnsupportedLibraryError:
        raise missing("gpg") from None
    except IMPORT_ERRORS as exc:
        raise InputError(where(place, f"GnuPG key not usable: {type(exc).__name__}: {str(exc)[:200]}")) from None


def gpg_signer(text: str, place: str) -> Signer:
    uri, public = _import(_keyid(text, place), place)
    return GPGSigner.from_priv_key_uri(uri, public)


def export_public_key(text: str, path: Path) -> str:
    keyid = _keyid(text, str(path))
    _, public = _import(keyid, keyid)
    write_bytes(path, (json.dumps({"format": FORMAT, "keyid": public.keyid, "key": public.to_dict()},
                                  indent=2, sort_keys=True) + "\n").encode())
    return public.keyid


def load_public_key(data: bytes, path: Path) -> Key:
    doc = strict_json_loads(data, str(path))
    if next(KEY_FILE.iter_errors(doc), None) is not None:
        raise InputError(where(path, f"not a {FORMAT} key file"))
    key = GPGKey.from_dict(_keyid(doc["keyid"], str(path)), dict(doc["key"]))
    if key.scheme == "pgp+eddsa-ed25519":
        q = str(key.keyval["public"]["q"]) if "q" in key.keyval["public"] else ""
        raw = bytes.fromhex(q[-64:]) if re.fullmatch(r"[0-9a-f]{64,66}", q) else b""
        reason = weak_key_reason(raw) if len(raw) == 32 else "Ed25519 public point is not 32 bytes"
        if reason:
            raise InputError(where(path, reason))
    return key
