"""A farm for tests: real redis-server, real `verifier farm worker` / `attester` processes
(each in its own session, so a test can SIGKILL a whole worker), busybox releases on disk."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.farm.services import RedisServer
from verifier.cli.app import run
from verifier.farm import queries
from verifier.farm.database import Database, open_database

REPO = Path(__file__).resolve().parents[2]
LAUNCH = "import sys; from verifier.cli.app import main; sys.argv = ['verifier', *sys.argv[1:]]; main()"


def pin(path: Path, **extra: object) -> dict[str, object]:
    data = path.read_bytes()
    return {"name": path.name, "url": path.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **extra}


def busybox_release(directory: Path, rootfs: Path, command: str, artifacts: dict[str, bytes],
                    name: str = "bb", version: str = "1") -> Path:
    """A release manifest whose build runs ``command`` in the busybox rootfs (outputs: out/*)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = directory / rootfs.name
    if not env.exists():
        os.link(rootfs, env) if rootfs.stat().st_dev == directory.stat().st_dev else env.write_bytes(rootfs.read_bytes())
    for artifact, data in artifacts.items():
        (directory / artifact).write_bytes(data)
    doc = {"manifest_version": 1, "name": name, "version": version, "environment": pin(env, format="rootfs"),
           "lockfile": None, "sources": [],
           "build": {"command": command, "workdir": "/build/src", "outputs": ["out/*"],
                     "source_date_epoch": 1700000000, "variables": {}},
           "artifacts": [pin(directory / a) for a in artifacts]}
    manifest = directory / "release.json"
    manifest.write_text(json.dumps(doc))
    return manifest


def reproducible_release(directory: Path, rootfs: Path, name: str = "bb", version: str = "1",
                         sleep: float = 0) -> Path:
    wait = f"sleep {sleep} && " if sleep else ""
    return busybox_release(directory, rootfs, f"{wait}mkdir -p out && echo {name}-{version} > out/a.txt",
                           {"a.txt": f"{name}-{version}\n".encode()}, name, version)


@dataclass
class Farm:
    root: Path
    redis: RedisServer
    database: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cache: Path | None = None  # default: <root>/cache
    databases: dict[str, str] = field(default_factory=dict)  # command -> its own URL (PostgreSQL roles)
    tag: str = field(default_factory=lambda: secrets.token_hex(4))  # node names, labels: this test's own

    def node(self, name: str) -> str:
        """The Celery node name of worker ``name`` (unique to this farm)."""
        return f"{name}-{self.tag}"

    @property
    def nodes(self) -> set[str]:
        return {self.node(p.name.removesuffix(".log")) for p in self.root.glob("*.log")}

    def label(self, name: str) -> str:
        """The build label on worker ``name``'s containers."""
        return f"farm-{self.node(name)}"

    @property
    def farm_dir(self) -> Path:
        return self.root / "farm"

    def common(self, command: str = "serve") -> list[str]:
        return ["--database", self.databases.get(command, self.database), "--farm-dir", str(self.farm_dir),
                *(["--broker", self.redis.url] if command != "status" else [])]

    def cli(self, *args: str) -> int:
        """A farm command run in this process (submit, status, requeue)."""
        return run(["farm", *args, *self.common(args[0])])

    def start(self, command: str, *args: str, log: str) -> subprocess.Popen[bytes]:
        out = open(self.root / f"{log}.log", "ab")
        process = subprocess.Popen([sys.executable, "-c", LAUNCH, "farm", command, *args, *self.common(command)],
                                   cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        out.close()
        self.processes.append(process)
        return process

    def worker(self, name: str = "w1", *args: str, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start("worker", "--name", self.node(name), "--concurrency", str(concurrency), "--allow-private-addresses",
                          "--cache-dir", str(self.cache or self.root / "cache"), *args, log=name)

    def attester(self, key: Path) -> subprocess.Popen[bytes]:
        return self.start("attester", "--signing-key", f"file:{key}", "--name", self.node("attest"), log="attester")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, names: list[str], timeout: float = 120) -> None:
        """Until each named worker's Celery node says it is ready (connected, consuming)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(" ready." in self.log(n) for n in names):
                return
            time.sleep(0.2)
        raise AssertionError(f"workers {names} not ready: {[self.log(n)[-1000:] for n in names]}")

    def open(self) -> Database:
        return open_database(self.database)

    def wait(self, done: Callable[[Database], bool], timeout: float, what: str) -> None:
        db = self.open()
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if done(db):
                    return
                time.sleep(0.2)
            counts = queries.counts_by_state(db)
        finally:
            db.dispose()
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.root.glob("*.log"))
        raise AssertionError(f"{what}: not within {timeout} s; jobs {counts}\n{logs}")

    def wait_states(self, expected: dict[str, int], timeout: float) -> None:
        self.wait(lambda db: all(queries.counts_by_state(db)[k] == v for k, v in expected.items()), timeout,
                  f"jobs {expected}")

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole worker: its main process and its pool processes."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Stop every process this farm started, then remove the build containers they left
        (a SIGTERM to a worker's process group reaches its podman client mid-build too)."""
        for process in self.processes:
            self.stop(process)
        for node in self.nodes:
            found = subprocess.run(["podman", "ps", "--all", "--quiet", "--filter", f"label=io.verifier.build=farm-{node}"],
                                   capture_output=True, text=True, check=False).stdout.split()
            if found:
                subprocess.run(["podman", "rm", "--force", "--time", "0", *found], capture_output=True, check=False)
