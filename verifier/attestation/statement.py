"""The in-toto Statement v1 with a SLSA Verification Summary (VSA v1) predicate, typed.

``build_statement`` turns a verify report into a ``Statement``; ``statement_bytes`` gives
its canonical JSON (sorted keys, no spaces, UTF-8), so the same report and time yield
the same bytes and independent verifiers can co-sign one envelope; ``read_statement``
reads a signed payload back, strictly (every object has exactly the allowed fields).
This module is the one place the statement meets JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from verifier import __version__
from verifier.errors import InputError, IntegrityError, where
from verifier.manifest import strict_json_loads
from verifier.report.model import Report, timestamp
from verifier.outcome import Verdict, VerificationResult
from verifier.stages import ArtifactStatus, EnvironmentStatus

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
DEFAULT_VERIFIER_ID = "urn:verifier:rebuild-and-compare"
DEFAULT_POLICY_URI = "urn:verifier:policy:bit-for-bit-rebuild:v1"
REPRODUCED_LEVEL = "SLSA_BUILD_REPRODUCED"
ENVIRONMENT_LEVEL = "VERIFIER_ENVIRONMENT_REBUILT"  # verify --rebuild-env: the environment rebuilt identical
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


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str


@dataclass(frozen=True)
class InputRef:
    uri: str
    sha256: str


@dataclass(frozen=True)
class Statement:
    """What a signer vouches for: the official artifacts (subjects) and the verification."""

    subjects: tuple[Subject, ...]
    verifier_id: str
    verifier_version: Mapping[str, str]
    time_verified: str
    resource_uri: str  # the release manifest's URL
    policy_uri: str
    policy_sha256: str | None
    input_attestations: tuple[InputRef, ...]
    result: VerificationResult
    levels: tuple[str, ...]

    @property
    def report_sha256(self) -> str | None:
        return next((ref.sha256 for ref in self.input_attestations if ref.uri == REPORT_URI), None)


def _digest(sha256: str) -> dict[str, str]:
    return {"sha256": sha256}


def _to_json(st: Statement) -> dict[str, Any]:
    policy: dict[str, Any] = {"uri": st.policy_uri}
    if st.policy_sha256 is not None:
        policy["digest"] = _digest(st.policy_sha256)
    predicate = {
        "verifier": {"id": st.verifier_id, "version": dict(st.verifier_version)},
        "timeVerified": st.time_verified,
        "resourceUri": st.resource_uri,
        "policy": policy,
        "inputAttestations": [{"uri": ref.uri, "digest": _digest(ref.sha256)} for ref in st.input_attestations],
        "verificationResult": st.result.value,
        "verifiedLevels": list(st.levels),
        "slsaVersion": "1.0",
    }
    return {"_type": STATEMENT_TYPE, "subject": [{"name": s.name, "digest": _digest(s.sha256)} for s in st.subjects],
            "predicateType": VSA_PREDICATE_TYPE, "predicate": predicate}


def _check(doc: Any, place: str) -> None:
    """Validate against the strict schema; the first problem becomes a one-line InputError."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(doc))
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(f"{place}: statement field {field}: {error.message[:200]}")


def statement_bytes(statement: Statement) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (non-ASCII kept as is)."""
    doc = _to_json(statement)
    _check(doc, "statement")  # never sign what a reader would refuse
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_statement(payload: bytes, place: str) -> Statement:
    """A signed payload as a Statement: the wrong _type or predicateType is IntegrityError
    (a signature over something else), any other deviation an InputError naming the field."""
    doc = strict_json_loads(payload, f"{place}: payload")
    if not isinstance(doc, dict):
        raise InputError(where(place, "payload is not a JSON object"))
    for field, expected in (("_type", STATEMENT_TYPE), ("predicateType", VSA_PREDICATE_TYPE)):
        found = doc[field] if field in doc else None
        if found != expected:
            raise IntegrityError(where(place, f"{field} {str(found)[:80]!r} is not {expected}"))
    _check(doc, place)
    p = doc["predicate"]
    policy = p["policy"]
    return Statement(
        subjects=tuple(Subject(s["name"], s["digest"]["sha256"]) for s in doc["subject"]),
        verifier_id=p["verifier"]["id"], verifier_version=dict(p["verifier"]["version"]),
        time_verified=p["timeVerified"], resource_uri=p["resourceUri"], policy_uri=policy["uri"],
        policy_sha256=policy["digest"]["sha256"] if "digest" in policy else None,
        input_attestations=tuple(InputRef(a["uri"], a["digest"]["sha256"]) for a in p["inputAttestations"]),
        result=VerificationResult(p["verificationResult"]), levels=tuple(p["verifiedLevels"]),
    )


def _input_attestations(report: Report, report_sha256: str) -> tuple[InputRef, ...]:
    manifest, inputs = report.release.manifest, report.inputs
    check = report.environment_check
    env_lock = check.lock if check is not None and check.lock is not None else inputs.environment.lock
    pins = [inputs.environment, env_lock, inputs.lockfile, *inputs.sources]
    refs = [InputRef(manifest.url, manifest.sha256), *(InputRef(p.url, p.sha256) for p in pins if p is not None)]
    return (*refs, InputRef(REPORT_URI, report_sha256))


def _subjects(report: Report) -> tuple[Subject, ...]:
    official = sorted((Subject(a.name, a.official.sha256) for a in report.artifacts if a.official),
                      key=lambda s: s.name)
    if not official:
        raise InputError("report: no official artifacts to attest (the statement needs a subject)")
    return tuple(official)


def verification_result(report: Report) -> VerificationResult:
    """PASSED only for a REPRODUCIBLE report; everything else (EQUIVALENT too) FAILED."""
    return VerificationResult.PASSED if report.verdict == Verdict.REPRODUCIBLE else VerificationResult.FAILED


def _levels(report: Report) -> tuple[str, ...]:
    identical = all(a.status == ArtifactStatus.IDENTICAL for a in report.artifacts)
    if report.verdict != Verdict.REPRODUCIBLE or not identical:
        return ()
    check = report.environment_check
    rebuilt = check is not None and check.status == EnvironmentStatus.REBUILT_IDENTICAL
    return (REPRODUCED_LEVEL, ENVIRONMENT_LEVEL) if rebuilt else (REPRODUCED_LEVEL,)


def build_statement(report: Report, report_bytes_sha256: str, *,
                    time_verified: str | None = None, policy_uri: str = DEFAULT_POLICY_URI,
                    verifier_id: str = DEFAULT_VERIFIER_ID) -> Statement:
    """The in-toto Statement v1 + VSA v1 predicate for a verify report (FAILED ones too)."""
    statement = Statement(
        subjects=_subjects(report), verifier_id=verifier_id,
        verifier_version={"verifier": report.tool.version or __version__},
        time_verified=time_verified or timestamp(report.finished), resource_uri=report.release.manifest.url,
        policy_uri=policy_uri, policy_sha256=None,
        input_attestations=_input_attestations(report, report_bytes_sha256),
        result=verification_result(report), levels=_levels(report),
    )
    _check(_to_json(statement), "report")  # checked now: a bad value is named before any key is used
    return statement
