"""The in-toto Statement v1 with a SLSA Verification Summary (VSA v1) predicate.

``build_statement`` turns a verify report into the statement; ``statement_bytes`` gives
its canonical JSON (sorted keys, no spaces, UTF-8), so the same report and time yield
the same bytes and independent verifiers can co-sign one envelope. ``check_statement``
is the strict model used when reading: every object has exactly the allowed fields.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from verifier import __version__
from verifier.errors import InputError
from verifier.report.model import Report, timestamp
from verifier.outcome import Verdict, VerificationResult
from verifier.stages import ArtifactStatus

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
DEFAULT_VERIFIER_ID = "urn:verifier:rebuild-and-compare"
DEFAULT_POLICY_URI = "urn:verifier:policy:bit-for-bit-rebuild:v1"
REPRODUCED_LEVEL = "SLSA_BUILD_REPRODUCED"
REPORT_URI = "report.json"

_DIGEST = {"type": "object", "additionalProperties": False, "required": ["sha256"],
           "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 4096}
_REF = {"type": "object", "additionalProperties": False, "required": ["uri", "digest"],
        "properties": {"uri": _TEXT, "digest": _DIGEST}}
_PREDICATE = {
    "type": "object", "additionalProperties": False,
    "required": ["verifier", "timeVerified", "resourceUri", "policy", "inputAttestations",
                 "verificationResult", "verifiedLevels", "slsaVersion"],
    "properties": {
        "verifier": {"type": "object", "additionalProperties": False, "required": ["id", "version"],
                     "properties": {"id": _TEXT, "version": {"type": "object",
                                                             "additionalProperties": _TEXT}}},
        "timeVerified": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "resourceUri": _TEXT,
        "policy": {"type": "object", "additionalProperties": False, "required": ["uri"],
                   "properties": {"uri": _TEXT, "digest": _DIGEST}},
        "inputAttestations": {"type": "array", "maxItems": 10000, "items": _REF},
        "verificationResult": {"enum": ["PASSED", "FAILED"]},
        "verifiedLevels": {"type": "array", "maxItems": 64, "items": _TEXT, "uniqueItems": True},
        "slsaVersion": {"const": "1.0"},
    },
}
STATEMENT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["_type", "subject", "predicateType", "predicate"],
    "properties": {
        "_type": {"const": STATEMENT_TYPE},
        "subject": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "digest"],
            "properties": {"name": _TEXT, "digest": _DIGEST}}},
        "predicateType": {"const": VSA_PREDICATE_TYPE},
        "predicate": _PREDICATE,
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(STATEMENT_SCHEMA)


def statement_bytes(statement: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (non-ASCII kept as is)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_statement(statement: Any, place: str) -> dict[str, Any]:
    """Validate against the strict model; the first problem becomes a one-line InputError."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(statement))
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(f"{place}: statement field {field}: {error.message[:200]}")
    checked: dict[str, Any] = statement
    return checked


def _ref(uri: str, sha256: str) -> dict[str, Any]:
    return {"uri": uri, "digest": {"sha256": sha256}}


def _input_attestations(report: Report, report_sha256: str) -> list[dict[str, Any]]:
    manifest, inputs = report.release.manifest, report.inputs
    refs = [_ref(manifest.url, manifest.sha256)]
    pins = [inputs.environment, inputs.lockfile, *inputs.sources]
    refs += [_ref(p.url, p.sha256) for p in pins if p is not None]
    refs.append(_ref(REPORT_URI, report_sha256))
    return refs


def _subjects(report: Report) -> list[dict[str, Any]]:
    official = sorted(((a.name, a.official.sha256) for a in report.artifacts if a.official), key=lambda s: s[0])
    if not official:
        raise InputError("report: no official artifacts to attest (the statement needs a subject)")
    return [{"name": name, "digest": {"sha256": sha256}} for name, sha256 in official]


def verification_result(report: Report) -> VerificationResult:
    """PASSED only for a REPRODUCIBLE report; everything else (EQUIVALENT too) FAILED."""
    return VerificationResult.PASSED if report.verdict == Verdict.REPRODUCIBLE else VerificationResult.FAILED


def _levels(report: Report) -> list[str]:
    identical = all(a.status == ArtifactStatus.IDENTICAL for a in report.artifacts)
    return [REPRODUCED_LEVEL] if report.verdict == Verdict.REPRODUCIBLE and identical else []


def build_statement(report: Report, report_bytes_sha256: str, *,
                    time_verified: str | None = None, policy_uri: str = DEFAULT_POLICY_URI,
                    verifier_id: str = DEFAULT_VERIFIER_ID) -> dict[str, Any]:
    """The in-toto Statement v1 + VSA v1 predicate for a verify report (FAILED ones too)."""
    predicate = {
        "verifier": {"id": verifier_id, "version": {"verifier": report.tool.version or __version__}},
        "timeVerified": time_verified or timestamp(report.finished),
        "resourceUri": report.release.manifest.url,
        "policy": {"uri": policy_uri},
        "inputAttestations": _input_attestations(report, report_bytes_sha256),
        "verificationResult": verification_result(report).value,
        "verifiedLevels": _levels(report),
        "slsaVersion": "1.0",
    }
    statement = {"_type": STATEMENT_TYPE, "subject": _subjects(report),
                 "predicateType": VSA_PREDICATE_TYPE, "predicate": predicate}
    return check_statement(statement, "report")
