"""Real services for the farm's tests, started by the tests on 127.0.0.1 with temp data dirs:
``redis-server`` (append-only file on) and PostgreSQL (Debian's initdb/pg_ctl, run as the
``postgres`` system user when the tests run as root, since PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require_tool
from verifier.farm.roles import FarmRoles, grants


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class RedisServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = require_tool("redis-server")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port)
        self._wait_loaded()

    def _wait_loaded(self) -> None:
        cli = shutil.which("redis-cli")
        for _ in range(200):
            if cli is None:
                return
            done = subprocess.run([cli, "-p", str(self.port), "ping"], capture_output=True, text=True)
            if done.stdout.strip() == "PONG":
                return
            time.sleep(0.05)

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=30)
        self.process = None

    def restart(self, kill: bool = False) -> None:
        self.stop(kill)
        self.start()


def start_redis(directory: Path) -> RedisServer:
    server = RedisServer(directory, free_port())
    server.start()
    return server


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    return require_tool(name)


@dataclass
class PostgresServer:
    directory: Path
    port: int
    user: str | None  # the system user running the server (None: this process's user)

    def _run(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]

    def url(self, database: str = "postgres", role: str = "farm_admin") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self._run([_pg_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"])


def start_postgres() -> PostgresServer:
    """A throwaway cluster with the superuser ``farm_admin`` and trust authentication on 127.0.0.1."""
    _pg_bin("initdb")
    directory = Path(tempfile.mkdtemp(prefix="verifier-farm-pg-"))
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(directory, free_port(), user)
    data = directory / "data"
    server._run([_pg_bin("initdb"), "-D", str(data), "-U", "farm_admin", "--auth=trust", "-E", "UTF8",
                 "--no-sync"])
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={directory} -c fsync=off"
    server._run([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(directory / "pg.log"), "-o", options, "-w",
                 "start"])
    return server


def create_database(server: PostgresServer, name: str) -> str:
    """A new empty database on ``server``; its URL for the admin role."""
    psql = _pg_bin("psql")
    subprocess.run([psql, "-h", "127.0.0.1", "-p", str(server.port), "-U", "farm_admin", "-d", "postgres",
                    "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    return server.url(name)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def create_roles(url: str) -> FarmRoles:
    """The farm's worker, attester and API roles for the test database at ``url`` (named
    after it, so tests sharing a server never share roles), with the grants the docs give."""
    from sqlalchemy import create_engine, text

    suffix = url.rsplit("_", 1)[1]
    roles = FarmRoles(f"w_{suffix}", f"a_{suffix}", f"api_{suffix}")
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with admin.begin() as connection:
            for role in (roles.worker, roles.attester, roles.api):
                connection.execute(text(f"CREATE ROLE {role} LOGIN"))
            connection.execute(text(grants(roles)))
    finally:
        admin.dispose()
    return roles
