"""`verifier farm sync --debian SUITE`: queue what a Debian suite's Sources index lists.

The index is read through the archive's signed chain (verifier/debian/archive.py: InRelease
checked with gpgv, Sources by the digest it lists), the newest version of each source is
taken, and a source is skipped when a job for that exact version is already DONE (whatever
its verdict), queued or running; a FAILED one only with ``retry_failed``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from verifier.cache import ContentCache
from verifier.debian.archive import open_archive
from verifier.environments.build import native_architecture
from verifier.errors import InputError
from verifier.farm.database import Database
from verifier.farm.jobs import JobInput, debian_input
from verifier.farm.models import ACTIVE_STATES, Job, JobState
from verifier.settings import Settings

CHUNK = 500  # dedupe keys per query


@dataclass(frozen=True)
class SyncPlan:
    submit: tuple[JobInput, ...]
    already_verified: int  # a DONE job has this version
    already_active: int  # queued or running
    failed_before: int  # FAILED before, skipped without retry_failed
    not_in_suite: tuple[str, ...]  # --packages names the index does not list


def suite_sources(archive_url: str, suite: str, settings: Settings, cache: ContentCache,
                  packages: tuple[str, ...] = ()) -> dict[str, str]:
    """Source name -> its newest version in ``suite``, from the signed Sources index (only
    ``packages`` when given; a name the suite lacks is left out)."""
    archive = open_archive(archive_url, suite, native_architecture(), settings, cache)
    found = {}
    for name in packages or tuple(archive.sources.starts):
        try:
            found[name] = archive.source(name, None).version
        except InputError:
            continue  # not in the suite (or no readable paragraph): plan_sync names it
    return found


def plan_sync(db: Database, sources: dict[str, str], packages: tuple[str, ...] = (),
              retry_failed: bool = False) -> SyncPlan:
    wanted = packages or tuple(sorted(sources))
    missing = tuple(p for p in wanted if p not in sources)
    inputs = [debian_input(f"{name}={sources[name]}") for name in wanted if name in sources]
    states = _states(db, [i.dedupe_key for i in inputs])
    verified = active = failed = 0
    chosen = []
    for item in inputs:
        found = states.get(item.dedupe_key, set())
        if JobState.DONE.value in found:
            verified += 1
        elif found & {s.value for s in ACTIVE_STATES}:
            active += 1
        elif JobState.FAILED.value in found and not retry_failed:
            failed += 1
        else:
            chosen.append(item)
    return SyncPlan(tuple(chosen), verified, active, failed, missing)


def _states(db: Database, keys: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with db.session() as session:
        for start in range(0, len(keys), CHUNK):
            rows = session.execute(select(Job.dedupe_key, Job.state).where(Job.dedupe_key.in_(keys[start:start + CHUNK])))
            for key, state in rows:
                found.setdefault(key, set()).add(state)
    return found
