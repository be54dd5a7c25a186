"""Where the farm's state lives: ``--database URL``, opened and migrated in one place.

A SQLite file under the farm directory is the default (one machine: workers, attester and web
on the same host); PostgreSQL (``postgresql://…``, through psycopg 3) for a farm of many
machines. The schema is Alembic's (``verifier/farm/migrations``); ``migrate`` brings a
database to the newest revision, ``open_database`` refuses one that is not there yet, so a
worker with the limited role never tries to change the schema (docs/farm.md#roles).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from verifier.errors import InfrastructureError, InputError
from verifier.urls import redact

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_FARM_DIR = Path("verifier-farm")
SQLITE_BUSY_MS = 30_000  # many worker processes share one SQLite file: wait for the writer, never fail


class DatabaseError(InfrastructureError):
    """The farm's database cannot be reached, or its schema is not the one this verifier needs."""


@dataclass(frozen=True)
class Database:
    url: str  # as given, credentials redacted
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits at the end of the block, or rolls back on an error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def default_url(farm_dir: Path) -> str:
    return f"sqlite:///{(farm_dir / 'farm.db').resolve()}"


def engine_url(url: str) -> str:
    """``url`` with the driver verifier uses: ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"--database {redact(url)}: not a database URL (sqlite:///PATH or postgresql://…)") from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername == "sqlite" and parsed.database:
        return url
    raise InputError(f"--database {redact(url)}: only sqlite:///PATH and postgresql://… are supported")


def create(url: str) -> Engine:
    full = engine_url(url)
    if full.startswith("sqlite"):
        Path(make_url(full).database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(full, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(full, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: object, record: object) -> None:
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]  # SQLAlchemy emits BEGIN itself
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: object) -> None:
    # Take the write lock at BEGIN: a read-then-write transaction can never deadlock on upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "the farm's migrations have no head"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(url: str) -> str:
    """Bring the database at ``url`` to the newest schema; returns the revision it is at."""
    engine = create(url)
    try:
        command.upgrade(alembic_config(engine), "head")
        return head_revision()
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseError(f"--database {redact(url)}: cannot migrate: {_reason(exc)}") from None
    finally:
        engine.dispose()


def open_database(url: str, *, create_schema: bool = False) -> Database:
    """The database at ``url``, checked to be at the newest revision (``create_schema``: migrate
    first, for a SQLite file on one machine, where the farm's own user owns the file)."""
    if create_schema:
        migrate(url)
    engine = create(url)
    try:
        found = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(f"--database {redact(url)}: cannot connect: {_reason(exc)}") from None
    if found != head_revision():
        engine.dispose()
        raise DatabaseError(f"--database {redact(url)}: schema is at revision {found or 'none'}, this verifier "
                            f"needs {head_revision()}: run 'verifier farm migrate' as the database owner")
    return Database(redact(url), engine, sessionmaker(engine, expire_on_commit=False))


def _reason(exc: OperationalError | ProgrammingError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
