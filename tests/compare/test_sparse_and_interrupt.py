"""Sparse tars and interrupts (issue 14, defect 7): a tar declaring a huge sparse file, or
a huge sparse map, in any of GNU tar's four sparse formats is refused from its headers
within a second (exit 2, naming the limit and the option); a legitimate sparse file is
still compared; SIGTERM stops a long comparison promptly, removing its temporary files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from verifier.errors import LimitExceeded
from verifier.formats.tar_scan import sparse_maps_of
from verifier.sandbox.archive import check_archive
from verifier.settings import UnpackLimits

ROOT = Path(__file__).resolve().parents[2]
BLOCK = 512
TIB = 1 << 40


def _number(value: int, width: int) -> bytes:
    """A tar numeric field: octal when it fits, else GNU base-256."""
    if value < 8 ** (width - 1):
        return f"{value:0{width - 1}o}".encode() + b"\0"
    return b"\x80" + value.to_bytes(width - 1, "big")


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % BLOCK)


def _checksummed(header: bytearray) -> bytes:
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    return bytes(header)


def _regions(count: int, realsize: int) -> list[tuple[int, int]]:
    """``count`` one-byte data regions spread over ``realsize`` bytes (the rest are holes)."""
    step = max(realsize // count, 2)
    return [(i * step, 1) for i in range(count)]


def gnu_old(count: int, realsize: int) -> bytes:
    """GNU tar's original sparse format: type 'S', 4 map entries in the header, then
    extension blocks of 21 entries each, the real size at byte 483."""
    regions = _regions(count, realsize)
    header = bytearray(BLOCK)
    header[0:1] = b"f"
    header[100:108], header[108:116], header[116:124] = b"0000644\0", b"0000000\0", b"0000000\0"
    header[124:136], header[136:148] = _number(count, 12), _number(0, 12)
    header[156:157], header[257:265] = b"S", b"ustar  \0"
    for i, (offset, size) in enumerate(regions[:4]):
        header[386 + 24 * i: 410 + 24 * i] = _number(offset, 12) + _number(size, 12)
    header[482] = 1 if count > 4 else 0
    header[483:495] = _number(realsize, 12)
    blocks = [_checksummed(header)]
    for start in range(4, count, 21):
        ext = bytearray(BLOCK)
        for i, (offset, size) in enumerate(regions[start:start + 21]):
            ext[24 * i: 24 * i + 24] = _number(offset, 12) + _number(size, 12)
        ext[504] = 1 if start + 21 < count else 0
        blocks.append(bytes(ext))
    return b"".join(blocks) + _pad(b"x" * count) + b"\0" * (2 * BLOCK)


def _record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _pax(records: list[tuple[str, str]], name: str, data: bytes) -> bytes:
    extended = b"".join(_record(k, v) for k, v in records)
    xhdr = tarfile.TarInfo("././@PaxHeader")
    xhdr.type, xhdr.size = tarfile.XHDTYPE, len(extended)
    member = tarfile.TarInfo(name)
    member.size = len(data)
    return (xhdr.tobuf(tarfile.USTAR_FORMAT) + _pad(extended) + member.tobuf(tarfile.USTAR_FORMAT) + _pad(data)
            + b"\0" * (2 * BLOCK))


def pax_00(count: int, realsize: int) -> bytes:
    pairs = [r for offset, size in _regions(count, realsize)
             for r in (("GNU.sparse.offset", str(offset)), ("GNU.sparse.numbytes", str(size)))]
    return _pax([("GNU.sparse.size", str(realsize)), ("GNU.sparse.numblocks", str(count)), *pairs], "f",
                b"x" * count)


def pax_01(count: int, realsize: int) -> bytes:
    sparse_map = ",".join(f"{offset},{size}" for offset, size in _regions(count, realsize))
    return _pax([("GNU.sparse.size", str(realsize)), ("GNU.sparse.numblocks", str(count)),
                 ("GNU.sparse.map", sparse_map)], "f", b"x" * count)


def pax_10(count: int, realsize: int) -> bytes:
    """Format 1.0: the map is at the start of the member's data, in decimal lines."""
    lines = [str(count), *(str(n) for region in _regions(count, realsize) for n in region)]
    data = _pad(("\n".join(lines) + "\n").encode()) + b"x" * count
    return _pax([("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "f"),
                 ("GNU.sparse.realsize", str(realsize))], "GNUSparseFile.0/f", data)


FORMATS: dict[str, Callable[[int, int], bytes]] = {"gnu-old": gnu_old, "pax-0.0": pax_00, "pax-0.1": pax_01,
                                                   "pax-1.0": pax_10}


def verifier(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "from verifier.cli.app import main; main()", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finished(*args: str, timeout: float = 30) -> tuple[int, str, float]:
    started = time.monotonic()
    with verifier(*args) as proc:
        try:
            _, err = proc.communicate(timeout=timeout)
        finally:
            proc.kill()
    return proc.returncode, err.decode(), time.monotonic() - started


def pair(tmp: Path, build: Callable[[int, int], bytes], count: int, realsize: int) -> tuple[Path, Path]:
    a, b = tmp / "a.tar", tmp / "b.tar"
    a.write_bytes(build(count, realsize))
    b.write_bytes(build(count, realsize + 2))
    return a, b


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_huge_declared_sparse_size_is_refused_from_the_header(fmt: str, tmp_path: Path) -> None:
    a, b = pair(tmp_path, FORMATS[fmt], 8, TIB)
    code, err, took = finished("compare", str(a), str(b))
    assert code == 2 and took < 5, (code, took, err)
    assert err.startswith(f"verifier: error: {b}: member 'f' declares {TIB + 2} bytes, past the "), err
    assert err.rstrip().endswith("(limit max_ratio=200; raise it with --unpack-limit max_ratio=N)"), err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_huge_sparse_map_is_refused(fmt: str, tmp_path: Path) -> None:
    a, b = pair(tmp_path, FORMATS[fmt], 2000, 4000)
    code, err, took = finished("compare", str(a), str(b), "--unpack-limit", "max_sparse_entries=1000")
    assert code == 2 and took < 5, (code, took, err)
    assert "more than 1000 sparse-map entries (member 'f' has 2000)" in err, err
    assert "raise it with --unpack-limit max_sparse_entries=N" in err


@pytest.mark.parametrize("fmt", ["gnu-old", "pax-1.0"])  # the two formats whose maps are not in a bounded header
def test_a_huge_sparse_map_is_refused_before_libarchive_holds_it(fmt: str, tmp_path: Path) -> None:
    """1,000,000 entries: libarchive alone would hold about 80 MB a side before the count.
    The tars are built in a child process: building them here would grow this process,
    whose peak a later test's child would report if it read ru_maxrss (see tests/peak.py)."""
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    subprocess.run([sys.executable, "-c", "import sys; from tests.compare.test_sparse_and_interrupt import FORMATS; "
                    "build = FORMATS[sys.argv[1]]; "
                    "[open(p, 'wb').write(build(1_000_000, int(s))) for p, s in zip(sys.argv[2::2], sys.argv[3::2])]",
                    fmt, str(a), str(TIB), str(b), str(TIB + 2)], cwd=ROOT, check=True)
    probe = ("import sys; from tests.peak import own_peak_kib; from verifier.cli.app import run;"
             " code = run(['compare', sys.argv[1], sys.argv[2]]); print(code, own_peak_kib(), file=sys.stderr)")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", probe, str(a), str(b)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    lines = done.stderr.splitlines()
    assert time.monotonic() - started < 10 and lines[-1].startswith("2 "), lines
    assert "more than 100000 sparse-map entries (member 'f' has 1000000)" in lines[0]
    assert int(lines[-1].split()[1]) < 100_000, f"peak {lines[-1]} KiB"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_header_scan_counts_every_format(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "s.tar"
    path.write_bytes(FORMATS[fmt](2000, 4000))
    assert list(sparse_maps_of(path)) == [(b"f", 2000)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sparse_file_within_the_budgets_is_compared(fmt: str, tmp_path: Path) -> None:
    a, b = pair(tmp_path, FORMATS[fmt], 50, 1 << 20)
    code, err, _ = finished("compare", str(a), str(b))
    assert code == 1 and err == "", err


def test_gnu_tar_sparse_members_are_compared_by_content(tmp_path: Path) -> None:
    for side, byte in (("a", b"1"), ("b", b"2")):
        src = tmp_path / side
        src.mkdir()
        with open(src / "disk.img", "wb") as f:
            f.truncate(64 << 20)
            f.seek(32 << 20)
            f.write(byte)
        subprocess.run(["tar", "--sparse", "--format=gnu", "--mtime=@0", "-C", str(src), "-cf",
                        str(tmp_path / f"{side}.tar"), "disk.img"], check=True)
    code, err, _ = finished("compare", str(tmp_path / "a.tar"), str(tmp_path / "b.tar"), "--format", "json")
    assert code == 1 and err == ""
    assert [count for _, count in sparse_maps_of(tmp_path / "a.tar")] == [2]  # GNU tar: data, then the end


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_sandbox_refuses_a_huge_sparse_member_before_writing(fmt: str, tmp_path: Path) -> None:
    archive = tmp_path / "env.tar"
    archive.write_bytes(FORMATS[fmt](8, TIB))
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match=r"env.tar: member 'f' declares 1099511627776 bytes"):
        check_archive(archive, "env.tar", UnpackLimits())
    assert time.monotonic() - started < 2


def test_the_sandbox_refuses_a_huge_sparse_map(tmp_path: Path) -> None:
    archive = tmp_path / "env.tar"
    archive.write_bytes(pax_10(2000, 4000))
    with pytest.raises(LimitExceeded, match=r"more than 1000 sparse-map entries \(member 'f' has 2000\)"):
        check_archive(archive, "env.tar", UnpackLimits(max_sparse_entries=1000))


def test_sigterm_stops_a_long_comparison_and_cleans_up(tmp_path: Path) -> None:
    """Two 64 GiB sparse members (allowed by raised limits) take minutes to read; SIGTERM
    reaches the main thread, which stops the side read in a worker thread, and the
    temporary directory is gone when the process exits."""
    a, b = pair(tmp_path, pax_10, 4, 64 << 30)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    with verifier("compare", str(a), str(b), "--unpack-limit", "max_ratio=100000000",
                  "--unpack-limit", f"max_expanded_bytes={TIB}", env={**os.environ, "TMPDIR": str(tmpdir)}) as proc:
        deadline = time.monotonic() + 20
        while not any(tmpdir.iterdir()) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # both sides are reading
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        finally:
            proc.kill()  # a no-op once it has exited; else the test fails without leaving it running
        took = time.monotonic() - sent
    assert proc.returncode == 130 and took < 5, (proc.returncode, took, err)
    assert err.decode() == "verifier: error: interrupted\n"
    assert list(tmpdir.iterdir()) == []
