"""The address policy (docs/network-policy.md): refused addresses are never connected to,
credentials in URLs are refused and never shown, redirects are checked hop by hop, and the
connection goes to the very address that was checked (no DNS-rebinding window)."""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.fixtures_http import QuietHTTPServer, Server
from verifier.cache import ContentCache
from verifier.cli.app import run
from verifier.errors import ExitCode, FetchError, InputError
from verifier.fetch import fetch_file
from verifier.fetch.addresses import AddressPolicy, category
from verifier.packages.lockfile import native
from verifier.manifest import PinnedFile
from verifier.settings import FetchLimits, Settings

BODY = b"pinned bytes\n" * 100
SECRET = "s3cr3t-Pa55"
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CONNECT = socket.socket.connect


@pytest.mark.parametrize(("address", "expected"), [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%1", "link-local"),
    ("::ffff:169.254.169.254", "link-local"), ("2002:a9fe:a9fe::1", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("::ffff:239.1.1.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"), ("::ffff:0.0.0.0", "unspecified"),
    ("255.255.255.255", "reserved"), ("240.0.0.1", "reserved"), ("::127.0.0.1", "reserved"),
    ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("100.64.0.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("::ffff:10.0.0.1", "private"), ("198.18.0.1", "private"),
    ("192.0.2.1", "private"),
    ("93.184.215.14", None), ("2606:4700:4700::1111", None), ("::ffff:93.184.215.14", None),
])
def test_every_range_has_its_category(address: str, expected: str | None) -> None:
    ip = ipaddress.ip_address(address.split("%")[0])
    assert category(ip) == expected
    allowed = AddressPolicy(allow_private=True).refusal(ip)
    assert allowed == (expected if expected in ("link-local", "multicast", "unspecified", "reserved") else None)


class Network:
    """Records every lookup and connect(), and lets a test give names their addresses:
    ``names[host]`` is a list of answers, one per lookup (the last one repeats); an answer
    is one address or a tuple of addresses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[str | tuple[str, ...]]] = {}
        self.connects: list[str] = []
        self.lookups: list[str] = []
        monkeypatch.setattr(socket, "getaddrinfo", self._getaddrinfo)
        network = self

        def connect(sock: socket.socket, address: tuple) -> None:
            network.connects.append(address[0])
            return REAL_CONNECT(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)

    def _getaddrinfo(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        answers = self.names.get(host)
        if answers is None:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [_info(address, port) for address in ((answer,) if isinstance(answer, str) else answer)]


def _info(address: str, port: int) -> tuple:
    if ipaddress.ip_address(address).version == 4:
        return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
    return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    return Network(monkeypatch)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A bare listening socket: a test asserts it never saw a connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def accepted(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def pin(url: str, name: str = "env.tar") -> PinnedFile:
    return PinnedFile(name=name, url=url, sha256=hashlib.sha256(BODY).hexdigest(), size=len(BODY))


def allowing(settings: Settings) -> Settings:
    limits = FetchLimits(connect_timeout=2, read_timeout=2, total_deadline=20, retries=1, allow_private_addresses=True)
    return dataclasses.replace(settings, fetch=limits)


def manifest_file(tmp_path: Path, env_url: str) -> Path:
    def entry(name: str, url: str) -> dict:
        return {"name": name, "url": url, "sha256": hashlib.sha256(BODY).hexdigest(), "size": len(BODY)}

    doc = {"manifest_version": 1, "name": "x", "version": "1",
           "environment": {**entry("env.tar", env_url), "format": "rootfs"}, "lockfile": None, "sources": [],
           "build": {"command": "true", "workdir": "/build", "outputs": ["*"], "source_date_epoch": 0,
                     "variables": {}},
           "artifacts": [entry("art.bin", env_url)]}
    path = tmp_path / "release.json"
    path.write_text(json.dumps(doc))
    return path


def fetch_cli(location: str, tmp_path: Path, *extra: str) -> int:
    return run(["fetch", location, "--cache-dir", str(tmp_path / "cache"), *extra])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("allow", [False, True])
def test_metadata_name_is_refused_before_any_connection(network: Network, tmp_path: Path, capsys,
                                                        allow: bool) -> None:
    network.names["metadata.test"] = ["169.254.169.254"]
    manifest = manifest_file(tmp_path, "http://metadata.test/latest/meta-data/")
    code = fetch_cli(str(manifest), tmp_path, *(["--allow-private-addresses"] if allow else []))
    assert code == ExitCode.BAD_INPUT
    err = one_error_line(capsys)
    assert "http://metadata.test/latest/meta-data/" in err and "169.254.169.254" in err and "link-local" in err
    assert network.connects == [], "nothing may be connected to"
    assert network.lookups.count("metadata.test") == 1, "a refusal is final: no retry"


@pytest.mark.parametrize("url", ["http://metadata.test/release.json", "http://169.254.169.254/release.json",
                                 "http://[fe80::1]/release.json"])
def test_a_manifest_url_on_a_forbidden_address_is_refused(url: str, network: Network, tmp_path: Path,
                                                          capsys) -> None:
    """The user names the manifest's URL, so loopback and private are allowed for it; never link-local."""
    network.names["metadata.test"] = ["169.254.169.254"]
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")])
    assert code == ExitCode.BAD_INPUT
    err = one_error_line(capsys)
    assert url in err and "link-local" in err and network.connects == []
    assert not (tmp_path / "work").exists(), "no report, no work directory"


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://2852039166/latest/meta-data/",  # the same, as one number
    "http://[fe80::1]/x", "http://[fe80::a9fe:a9fe%251]/x", "http://[::ffff:169.254.169.254]/x",
    "http://0.0.0.0:{port}/x", "http://[::]:{port}/x", "http://224.0.0.1/x", "http://[ff02::1]/x",
])
def test_forbidden_literal_addresses_are_refused_even_when_private_ones_are_allowed(
        url: str, network: Network, listener: socket.socket, settings: Settings) -> None:
    url = url.format(port=listener.getsockname()[1])
    with pytest.raises(InputError) as err:
        fetch_file(pin(url), ContentCache(settings.cache_dir), allowing(settings))
    assert str(err.value).startswith(url.split("/x")[0].split("/latest")[0]) and "verifier never connects" in str(err.value)
    assert network.connects == [] and not accepted(listener)


def test_loopback_and_private_need_the_option_or_a_local_manifest(network: Network, listener: socket.socket,
                                                                  tmp_path: Path, capsys) -> None:
    port = listener.getsockname()[1]
    network.names["intranet.test"] = ["10.20.30.40"]
    for url in (f"http://127.0.0.1:{port}/env.tar", f"http://localhost:{port}/env.tar", "http://intranet.test/env.tar"):
        assert fetch_cli(str(manifest_file(tmp_path, url)), tmp_path) == ExitCode.BAD_INPUT
        err = one_error_line(capsys)
        assert url in err and "--allow-private-addresses" in err
    assert network.connects == [] and not accepted(listener)


def test_option_allows_loopback(http_server: Server, tmp_path: Path) -> None:
    url = http_server.add("/env.tar", body=BODY)
    assert fetch_cli(str(manifest_file(tmp_path, url)), tmp_path) == ExitCode.BAD_INPUT
    assert fetch_cli(str(manifest_file(tmp_path, url)), tmp_path, "--allow-private-addresses") == ExitCode.OK


def test_manifest_from_a_loopback_address_may_name_loopback_pins(http_server: Server, tmp_path: Path) -> None:
    url = http_server.add("/env.tar", body=BODY)
    manifest = http_server.add("/release.json", body=manifest_file(tmp_path, url).read_bytes())
    assert fetch_cli(manifest, tmp_path) == ExitCode.OK


def test_a_name_resolving_to_one_good_and_one_forbidden_address_is_refused(
        network: Network, listener: socket.socket, settings: Settings) -> None:
    port = listener.getsockname()[1]
    network.names["mixed.test"] = [("127.0.0.1", "169.254.169.254")]
    with pytest.raises(InputError, match="169.254.169.254, a link-local address"):
        fetch_file(pin(f"http://mixed.test:{port}/x"), ContentCache(settings.cache_dir), allowing(settings))
    assert network.connects == [] and not accepted(listener)


class HostRecorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hosts: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hosts.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


@pytest.fixture
def host_server() -> Iterator[tuple[int, list[str]]]:
    handler = type("Recorder", (HostRecorder,), {"hosts": []})
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], handler.hosts
    server.shutdown()
    server.server_close()


def test_connection_goes_to_the_checked_address_not_a_second_lookup(
        network: Network, host_server: tuple[int, list[str]], settings: Settings) -> None:
    """DNS rebinding: the first answer is checked and used; a later answer (the metadata
    address) is never asked for, and the Host header still names the host."""
    port, hosts = host_server
    network.names["rebind.test"] = ["127.0.0.1", "169.254.169.254"]
    cached = fetch_file(pin(f"http://rebind.test:{port}/env.tar"), ContentCache(settings.cache_dir),
                        allowing(settings))
    assert cached.path.read_bytes() == BODY
    assert network.lookups.count("rebind.test") == 1 and network.connects == ["127.0.0.1"]
    assert hosts == [f"rebind.test:{port}"]


@pytest.mark.parametrize("target", ["http://metadata.test/x", "http://[fe80::1]/x",
                                    "http://[::ffff:169.254.169.254]:80/x", "http://0.0.0.0:{port}/x"])
def test_redirect_from_an_allowed_to_a_forbidden_address_is_refused(
        http_server: Server, network: Network, settings: Settings, target: str) -> None:
    network.names["metadata.test"] = ["169.254.169.254"]
    target = target.format(port=http_server.httpd.server_address[1])
    url = http_server.add("/moved", location=target)
    with pytest.raises(InputError) as err:
        fetch_file(pin(url), ContentCache(settings.cache_dir), allowing(settings))
    assert "verifier never connects there" in str(err.value) and target in str(err.value)
    assert set(network.connects) == {"127.0.0.1"}, "only the allowed first hop was connected to"


def test_redirect_to_loopback_refused_without_the_option(http_server: Server, network: Network,
                                                         settings: Settings) -> None:
    network.names["files.test"] = ["127.0.0.1"]
    port = http_server.httpd.server_address[1]
    http_server.add("/real", body=BODY)
    url = http_server.add("/moved", location=f"http://files.test:{port}/real")
    strict = dataclasses.replace(allowing(settings), fetch=dataclasses.replace(allowing(settings).fetch,
                                                                               allow_private_addresses=False))
    with pytest.raises(InputError, match="127.0.0.1 is a loopback address"):
        fetch_file(pin(url), ContentCache(settings.cache_dir), strict)
    assert network.connects == [] and http_server.routes["/moved"].hits == []


def test_credentials_in_a_pin_url_are_refused_and_never_shown(http_server: Server, tmp_path: Path, capsys) -> None:
    url = http_server.add("/env.tar", body=BODY).replace("http://", f"http://alice:{SECRET}@")
    manifest = http_server.add("/release.json", body=manifest_file(tmp_path, url).read_bytes())
    assert fetch_cli(manifest, tmp_path) == ExitCode.BAD_INPUT
    err = one_error_line(capsys)
    assert SECRET not in err and "alice" not in err and "user name or password" in err and "***@127.0.0.1" in err
    assert http_server.routes["/env.tar"].hits == []
    assert not any(SECRET.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
                   and p.name != "release.json")


def test_credentials_in_the_manifest_url_are_refused_and_never_shown(http_server: Server, tmp_path: Path,
                                                                     capsys) -> None:
    url = http_server.add("/release.json", body=b"{}").replace("http://", f"http://alice:{SECRET}@")
    code = run(["verify", url, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"),
                "--report", str(tmp_path / "report.json")])
    assert code == ExitCode.BAD_INPUT
    err = one_error_line(capsys)
    assert SECRET not in err and "***@127.0.0.1" in err
    assert http_server.routes["/release.json"].hits == []
    assert not any(SECRET.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_credentials_in_a_redirect_are_refused_and_never_shown(http_server: Server, settings: Settings) -> None:
    real = http_server.add("/real", body=BODY)
    url = http_server.add("/moved", location=real.replace("http://", f"http://bob:{SECRET}@"))
    with pytest.raises(InputError) as err:
        fetch_file(pin(url), ContentCache(settings.cache_dir), allowing(settings))
    assert SECRET not in str(err.value) and "user name or password" in str(err.value)
    assert http_server.routes["/real"].hits == []


def test_credentials_in_a_lockfile_url_are_refused_and_never_shown() -> None:
    doc = {"lockfile_version": 1, "package_manager": "apt", "packages": [
        {"name": "gcc", "version": "1", "architecture": "amd64", "url": f"https://u:{SECRET}@mirror.test/gcc.deb",
         "size": 1, "sha256": "0" * 64}]}
    with pytest.raises(InputError) as err:
        native.parse(json.dumps(doc).encode(), "lock.json", "https://mirror.test/lock.json")
    assert SECRET not in str(err.value) and str(err.value).startswith("lock.json: ")


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """HTTPS on 127.0.0.1 with a certificate for the name tls.test only, trusted through
    SSL_CERT_FILE (read by OpenSSL when verifier's client loads the default CAs)."""
    require_tool("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tls.test",
                    "-addext", "subjectAltName=DNS:tls.test", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    handler = type("Recorder", (HostRecorder,), {"hosts": []})
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_to_the_checked_address_still_checks_the_certificate_name(
        network: Network, tls_server: int, settings: Settings) -> None:
    network.names["tls.test"] = ["127.0.0.1", "169.254.169.254"]
    network.names["other.test"] = ["127.0.0.1"]
    cached = fetch_file(pin(f"https://tls.test:{tls_server}/env.tar"), ContentCache(settings.cache_dir),
                        allowing(settings))
    assert cached.path.read_bytes() == BODY and network.connects == ["127.0.0.1"]
    fresh = dataclasses.replace(allowing(settings), cache_dir=settings.cache_dir.with_name("fresh-cache"))
    with pytest.raises(FetchError, match="certificate is not valid for 'other.test'"):
        fetch_file(pin(f"https://other.test:{tls_server}/env.tar"), ContentCache(fresh.cache_dir), fresh)
