"""`verifier farm attester`: the only process that holds the signing key.

It consumes the ``attest`` queue: a message names a result row and the sha256 of the report
the worker wrote. The attester signs only when the row's report bytes hash to that digest
and to the row's ``report_sha256``, and the bytes read back as a valid verifier report of
the release the row names; then it stores the DSSE envelope (PASSED and FAILED alike, as
``verify --signing-key`` does). A row already signed is left alone. At start it signs what
is still unsigned (a message lost while it was down).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from celery import Celery
from sqlalchemy import select, update

from verifier import attestation
from verifier.attestation.keys import signer_from_uri
from verifier.errors import IntegrityError, VerifierError, where
from verifier.farm.broker import ATTEST_TASK
from verifier.farm.database import Database, open_database
from verifier.farm.models import Result, utcnow
from verifier.report.codec import parse_report

log = logging.getLogger("verifier.farm.attester")


@dataclass(frozen=True)
class Signed:
    result_id: int
    envelope_sha256: str
    verification: str  # PASSED | FAILED


def check_keys(key_uris: tuple[str, ...]) -> None:
    """Fail at start, not at the first job, when a key cannot be loaded."""
    for uri in key_uris:
        signer_from_uri(uri)


def attest(db: Database, result_id: int, expected_sha256: str, key_uris: tuple[str, ...]) -> Signed | None:
    """Sign result ``result_id``'s report if it is the report the worker's message names;
    None when it is already signed. Raises IntegrityError when the digests disagree."""
    place = f"farm result {result_id}"
    with db.session() as session:
        row = session.execute(select(Result.report, Result.report_sha256, Result.release_name,
                                     Result.release_version, Result.signed_at).where(Result.id == result_id)).first()
    if row is None:
        raise IntegrityError(where(place, "no such result row"))
    report_data, row_sha256, name, version, signed_at = row
    if signed_at is not None:
        return None
    actual = hashlib.sha256(report_data).hexdigest()
    if not (actual == row_sha256 == expected_sha256):
        raise IntegrityError(where(place, f"report digest {actual[:16]}… does not match the result row "
                                          f"({row_sha256[:16]}…) and the worker's message ({expected_sha256[:16]}…)"))
    report = parse_report(report_data, place)
    if (report.release.name, report.release.version) != (name, version):
        raise IntegrityError(where(place, "the report names another release than its result row"))
    signed = attestation.sign_report(report, actual, attestation.SigningRequest(key_uris))
    return _store(db, result_id, actual, signed)


def _store(db: Database, result_id: int, report_sha256: str, signed: attestation.SignedReport) -> Signed | None:
    envelope_sha256 = hashlib.sha256(signed.envelope).hexdigest()
    keyids = ",".join(s["keyid"] for s in json.loads(signed.envelope)["signatures"])
    with db.session() as session:
        done = session.execute(update(Result).where(
            Result.id == result_id, Result.report_sha256 == report_sha256, Result.signed_at.is_(None)
        ).values(envelope=signed.envelope, envelope_sha256=envelope_sha256, signed_at=utcnow(), signer=keyids))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another attester signed it first
    return Signed(result_id, envelope_sha256, signed.result.value)


def sign_pending(db: Database, key_uris: tuple[str, ...], limit: int = 10_000) -> int:
    """Sign every unsigned result (each checked against its own row's digest)."""
    with db.session() as session:
        pending = session.execute(select(Result.id, Result.report_sha256).where(Result.signed_at.is_(None))
                                  .order_by(Result.id).limit(limit)).all()
    count = 0
    for result_id, digest in pending:
        try:
            count += attest(db, result_id, digest, key_uris) is not None
        except VerifierError as exc:
            log.error("not signed: %s", exc.message)
    return count


class DatabaseFactory:
    """Opens the attester's database once per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: Database | None = None

    def __call__(self) -> Database:
        if self._db is None:
            self._db = open_database(self.url)
        return self._db


def register_attest(app: Celery, db_factory: DatabaseFactory, key_uris: tuple[str, ...]) -> None:
    @app.task(name=ATTEST_TASK, acks_late=True, reject_on_worker_lost=True, shared=False)
    def attest_result(result_id: int, report_sha256: str) -> str:
        try:
            signed = attest(db_factory(), int(result_id), str(report_sha256), key_uris)
        except VerifierError as exc:  # never signed; the row stays unsigned and the dashboard shows it
            log.error("not signed: %s", exc.message)
            return f"result {result_id}: not signed: {exc.message}"
        return f"result {result_id}: " + (f"signed, {signed.verification}" if signed else "already signed")
