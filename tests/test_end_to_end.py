"""The publish -> serve over HTTP -> verify round trip on the bundled example release,
with real podman, a real Debian environment and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.fixtures_http import QuietHTTPServer
from verifier.cli.app import run
from verifier.errors import ExitCode

REPO = Path(__file__).parent.parent
EPOCH = 1700000000

pytestmark = [pytest.mark.podman, pytest.mark.slow]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve():
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(directory))
        server = QuietHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def example_source(tmp_path: Path) -> Path:
    src = tmp_path / "hello-1.0.tar.gz"
    subprocess.run(
        f"tar --sort=name --mtime=@{EPOCH} --owner=0 --group=0 --numeric-owner "
        f"-C {REPO / 'fixtures/example-release'} -cf - hello-1.0 | gzip -n > {src}",
        shell=True, check=True,
    )
    return src


@pytest.fixture(scope="module")
def published(tmp_path_factory, debian_build_env) -> Path:
    require_tool("podman")
    tmp = tmp_path_factory.mktemp("publish")
    out = tmp / "published"
    code = run([
        "publish", "--name", "hello", "--version", "1.0",
        "--env", str(debian_build_env), "--source", str(example_source(tmp)),
        "--build", "make -C hello-1.0 dist", "--output", "hello-1.0/dist/*",
        "--source-date-epoch", str(EPOCH), "--out", str(out),
        "--cache-dir", str(tmp / "cache"), "--work-dir", str(tmp / "work"),
    ])
    assert code == ExitCode.OK
    return out


def test_publish_writes_a_complete_release(published: Path) -> None:
    manifest = json.loads((published / "release.json").read_text())
    names = sorted(a["name"] for a in manifest["artifacts"])
    assert names == ["hello-1.0-stamped.tar.gz", "hello-1.0.tar.gz"]
    for entry in [manifest["environment"], *manifest["sources"], *manifest["artifacts"]]:
        assert (published / entry["url"]).stat().st_size == entry["size"]
    assert manifest["build"]["source_date_epoch"] == EPOCH


def test_verify_over_http_finds_one_identical_and_one_different(published: Path, serve, tmp_path: Path) -> None:
    url = serve(published) + "/release.json"
    report_path = tmp_path / "report.json"
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"),
                "--report", str(report_path), "--format", "json", "--output", str(tmp_path / "out.json")])
    assert code == ExitCode.DIFFERENT
    report = json.loads(report_path.read_text())
    status = {a["name"]: a["status"] for a in report["artifacts"]}
    assert status == {"hello-1.0.tar.gz": "IDENTICAL", "hello-1.0-stamped.tar.gz": "DIFFERENT"}
    assert report["verdict"] == "DIFFERENT"
    assert report["sandbox"]["network"] == "none"
    assert report["release"]["manifest"]["url"] == url
    stamped = next(a for a in report["artifacts"] if a["name"] == "hello-1.0-stamped.tar.gz")
    assert stamped["difference"] is not None, "a differing artifact must carry the auditor's explanation"
    assert "BUILD-TIME" in json.dumps(stamped["difference"])


def test_identical_release_is_reproducible(published: Path, serve, tmp_path: Path) -> None:
    """Drop the unreproducible artifact from the manifest: the rest rebuilds bit for bit."""
    manifest = json.loads((published / "release.json").read_text())
    manifest["artifacts"] = [a for a in manifest["artifacts"] if a["name"] == "hello-1.0.tar.gz"]
    manifest["build"]["outputs"] = ["hello-1.0/dist/hello-1.0.tar.gz"]
    (published / "only-reproducible.json").write_text(json.dumps(manifest))
    url = serve(published) + "/only-reproducible.json"
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"),
                "--report", str(tmp_path / "r.json")])
    assert code == ExitCode.OK
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "REPRODUCIBLE"


def test_tampered_artifact_is_an_integrity_error(published: Path, serve, tmp_path: Path, capsys) -> None:
    manifest = json.loads((published / "release.json").read_text())
    manifest["artifacts"][0]["sha256"] = "0" * 64
    (published / "tampered.json").write_text(json.dumps(manifest))
    url = serve(published) + "/tampered.json"
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")])
    assert code == ExitCode.INTEGRITY
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and manifest["artifacts"][0]["name"] in err[0] and "0" * 64 in err[0]


def test_signed_report_verifies_offline(published: Path, serve, tmp_path: Path) -> None:
    """verify --signing-key writes a DSSE envelope that `report verify` accepts; FAILED is signed too."""
    key = tmp_path / "key.pem"
    assert run(["keygen", "--out", str(key)]) == ExitCode.OK
    url = serve(published) + "/release.json"
    report = tmp_path / "report.json"
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"),
                "--report", str(report), "--signing-key", f"file:{key}", "--output", str(tmp_path / "summary.txt")])
    assert code == ExitCode.DIFFERENT
    envelope = tmp_path / "report.intoto.json"
    official = next((published / "artifacts").glob("hello-1.0.tar.gz"))
    verified = run(["report", "verify", str(envelope), "--key", f"{key}.pub", "--report", str(report),
                    "--artifact", str(official), "--resource-uri", url])
    assert verified == ExitCode.DIFFERENT, "a valid signature over a FAILED result exits 1"
    doc = json.loads(envelope.read_text())
    doc["payload"] = doc["payload"][:-4] + "AAAA"
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    assert run(["report", "verify", str(tmp_path / "tampered.json"), "--key", f"{key}.pub"]) == ExitCode.INTEGRITY
