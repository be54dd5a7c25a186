"""PostgreSQL roles for a farm of many machines: what each process may do to the database.

The database's owner (the admin role) runs ``verifier farm migrate``; no farm process uses it
at run time. ``grants`` writes the SQL the owner runs once after each migration:

- the worker role claims attempts and writes results, and cannot change a result once
  written, delete anything, or change the schema;
- the attester role reads reports and writes the signature columns, nothing else;
- the api role (``farm submit``, ``requeue``, ``serve``) reads everything and creates jobs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.errors import InputError

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class FarmRoles:
    worker: str = "farm_worker"
    attester: str = "farm_attester"
    api: str = "farm_api"

    def __post_init__(self) -> None:
        for option, name in (("--worker-role", self.worker), ("--attester-role", self.attester),
                             ("--api-role", self.api)):
            if not ROLE_NAME.fullmatch(name):
                raise InputError(f"{option} {name!r}: a PostgreSQL role name: lower-case letters, digits and '_'")


def grants(roles: FarmRoles) -> str:
    """The GRANT statements for ``roles`` (which must exist: CREATE ROLE … LOGIN PASSWORD …)."""
    w, a, api = roles.worker, roles.attester, roles.api
    return "\n".join((
        "-- verifier farm: run as the database owner after 'verifier farm migrate'",
        "REVOKE ALL ON farm_jobs, farm_attempts, farm_results, alembic_version FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA public TO {w}, {a}, {api};",
        f"GRANT SELECT ON alembic_version TO {w}, {a}, {api};",
        "-- workers: claim attempts, write each result once (no UPDATE or DELETE on results)",
        f"GRANT SELECT, UPDATE ON farm_jobs TO {w};",
        f"GRANT SELECT, INSERT, UPDATE ON farm_attempts TO {w};",
        f"GRANT SELECT, INSERT ON farm_results TO {w};",
        f"GRANT USAGE ON SEQUENCE farm_attempts_id_seq, farm_results_id_seq TO {w};",
        "-- the attester: reads reports, writes the signature columns only",
        f"GRANT SELECT (id, report, report_sha256, release_name, release_version, signed_at) ON farm_results TO {a};",
        f"GRANT UPDATE (envelope, envelope_sha256, signed_at, signer) ON farm_results TO {a};",
        "-- submitters and the web service: read everything, create and requeue jobs",
        f"GRANT SELECT ON farm_jobs, farm_attempts, farm_results TO {api};",
        f"GRANT INSERT, UPDATE ON farm_jobs TO {api};",
        f"GRANT USAGE ON SEQUENCE farm_jobs_id_seq TO {api};",
        "",
    ))
