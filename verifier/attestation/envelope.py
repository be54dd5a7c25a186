"""DSSE envelopes (securesystemslib.dsse.Envelope) read strictly and signed through key URIs.

Reading refuses what a signature cannot vouch for: oversized or non-JSON documents,
duplicate JSON keys, fields that are missing or unexpected, another payloadType, bad
base64 and two signatures with one keyid. Parse failures are ``InputError`` (exit 2);
an envelope that parses but deviates from what DSSE signs is ``IntegrityError`` (exit 4).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
from typing import Any

from securesystemslib._gpg import exceptions as gpg_exceptions  # what GPGSigner lets through
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnsupportedLibraryError
from securesystemslib.signer import Signature

from verifier.attestation.keys import signer_from_uri
from verifier.attestation.statement import PAYLOAD_TYPE, Statement, statement_bytes
from verifier.errors import InputError, IntegrityError, LimitExceeded, where
from verifier.manifest import strict_json_loads

MAX_ENVELOPE_BYTES = 16 << 20
ENVELOPE_FIELDS = {"payload", "payloadType", "signatures"}
SIGNATURE_FIELDS = {"keyid", "sig"}


# What securesystemslib's signers (CryptoSigner, GPGSigner) document or let through when
# signing fails: a key that does not match, gpg missing or failing, a PGP packet it cannot read.
SIGNING_ERRORS = (ValueError, OSError, subprocess.SubprocessError, UnsupportedLibraryError,
                  gpg_exceptions.PacketParsingError, gpg_exceptions.PacketVersionNotSupportedError,
                  gpg_exceptions.SignatureAlgorithmNotSupportedError, gpg_exceptions.KeyNotFoundError,
                  gpg_exceptions.KeyExpirationError)

def _exact_fields(obj: Any, fields: set[str], what: str, place: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InputError(where(place, f"{what} is not a JSON object"))
    missing, extra = sorted(fields - obj.keys()), sorted(obj.keys() - fields)
    if missing:
        raise IntegrityError(where(place, f"{what} is missing field {missing[0]!r}"))
    if extra:
        raise IntegrityError(where(place, f"{what} has unexpected field {extra[0]!r}"))
    return obj


def _b64(value: Any, what: str, place: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(where(place, f"{what} is not a string"))
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(where(place, f"{what} is not valid base64")) from None


def _signature(obj: Any, index: int, place: str) -> Signature:
    what = f"signature {index}"
    extra = {}
    if isinstance(obj, dict) and "other_headers" in obj:  # GnuPG signatures carry their signed headers
        headers = obj["other_headers"]
        if not isinstance(headers, str) or not re.fullmatch(r"(?:[0-9a-f]{2}){1,4096}", headers):
            raise InputError(where(place, f"{what}: other_headers is not hex"))
        extra = {"other_headers": headers}
        obj = {k: v for k, v in obj.items() if k != "other_headers"}
    sig = _exact_fields(obj, SIGNATURE_FIELDS, what, place)
    if not isinstance(sig["keyid"], str) or not sig["keyid"]:
        raise InputError(where(place, f"{what}: keyid is not a non-empty string"))
    return Signature(sig["keyid"], _b64(sig["sig"], f"{what} sig", place).hex(), extra or None)


def parse_envelope(data: bytes, place: str) -> Envelope:
    """A DSSE envelope from untrusted bytes, strictly checked (signatures not yet verified)."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise LimitExceeded(where(place, f"envelope larger than {MAX_ENVELOPE_BYTES} bytes"))
    doc = _exact_fields(strict_json_loads(data, place), ENVELOPE_FIELDS, "envelope", place)
    if doc["payloadType"] != PAYLOAD_TYPE:
        raise IntegrityError(where(place, f"payloadType {str(doc['payloadType'])[:80]!r} is not {PAYLOAD_TYPE!r}"))
    payload = _b64(doc["payload"], "payload", place)
    if not isinstance(doc["signatures"], list) or not doc["signatures"]:
        raise IntegrityError(where(place, "envelope has no signatures"))
    signatures: dict[str, Signature] = {}
    for index, obj in enumerate(doc["signatures"]):
        sig = _signature(obj, index, place)
        if sig.keyid in signatures:
            raise IntegrityError(where(place, f"two signatures carry keyid {sig.keyid[:16]}"))
        signatures[sig.keyid] = sig
    return Envelope(payload, PAYLOAD_TYPE, signatures)


def _sign(envelope: Envelope, key_uris: list[str]) -> bytes:
    if not key_uris:
        raise InputError("--signing-key: at least one signing key URI is needed")
    for uri in key_uris:
        signer = signer_from_uri(uri)
        try:
            envelope.sign(signer)
        except SIGNING_ERRORS as exc:
            raise InputError(where(uri, f"signing failed: {type(exc).__name__}: {exc}")) from None
    return (json.dumps(envelope.to_dict(), indent=2, sort_keys=True) + "\n").encode()


def sign_statement(statement: Statement, key_uris: list[str]) -> bytes:
    """Sign the statement's canonical bytes with each key; the DSSE envelope as written to a file."""
    return _sign(Envelope(statement_bytes(statement), PAYLOAD_TYPE, {}), key_uris)


def cosign_envelope(envelope_bytes: bytes, place: str, statement: Statement, key_uris: list[str]) -> bytes:
    """Add signatures to an existing envelope whose payload is exactly ``statement``'s bytes."""
    envelope = parse_envelope(envelope_bytes, place)
    if envelope.payload != statement_bytes(statement):
        raise IntegrityError(where(place, "envelope payload differs from the statement built from this report; refusing to co-sign"))
    return _sign(envelope, key_uris)
