"""Farm fixtures: a database per test (SQLite file, or a fresh database on a PostgreSQL
server this test session started), and a real redis-server per test that needs a broker."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.farm.services import PostgresServer, RedisServer, create_database, remove_tree, start_postgres, start_redis
from verifier.farm.database import Database, migrate, open_database


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        remove_tree(server.directory)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return create_database(postgres_server, f"farm_{secrets.token_hex(6)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'farm' / 'farm.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'farm' / 'farm.db'}"
    return create_database(request.getfixturevalue("postgres_server"), f"farm_{secrets.token_hex(6)}")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    migrate(database_url)
    database = open_database(database_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = start_redis(directory)
    try:
        yield server
    finally:
        server.stop(kill=True)


@pytest.fixture
def farm(tmp_path: Path, redis_server: RedisServer, sqlite_url: str) -> Iterator["Farm"]:
    """A one-machine farm: Redis, a SQLite database, and the worker processes a test starts."""
    from tests.farm.harness import Farm
    migrate(sqlite_url)
    made = Farm(tmp_path, redis_server, sqlite_url)
    try:
        yield made
    finally:
        made.close()
