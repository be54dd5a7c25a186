"""Truncated and corrupt inputs (issue 14, defect 12): truncated tar, zip, deb and rpm, a
bad gzip CRC, corrupt or truncated xz, trailing bytes after a gzip stream, a `.tar.gz`
that is not gzip. The verdict stays DIFFERENT (the bytes differ), and the first hint
says in words which file (official or rebuilt) is truncated or corrupt, and where.
Every input is built here with the real tools, then cut or damaged."""

from __future__ import annotations

import gzip
import random
import struct
import subprocess
import sys
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import cpio, deb, iso, rpm, squashfs, tar, zip_file
from tests.compare.conftest import kinds, member_paths
from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.compare.api import Comparison, compare_paths
from verifier.errors import ExitCode
from verifier.settings import Settings

LABELS = ("official/x", "rebuilt/x")
BIG = {"big.txt": "".join(f"line {i}\n" for i in range(40000)), "small.txt": "s\n"}


def _compare(a: Path, b: Path, cfg: Settings, suffix: str) -> Comparison:
    started = time.monotonic()
    result = compare_paths(a, b, cfg, labels=(f"official/x{suffix}", f"rebuilt/x{suffix}"))
    assert time.monotonic() - started < 20
    assert not result.identical and not result.equivalent, "the bytes differ: the verdict stays DIFFERENT"
    return result


def _first_hint(result: Comparison) -> str:
    assert result.difference is not None and result.difference.hints
    return result.difference.hints[0]


def _cut(path: Path, out: Path, keep: int) -> Path:
    out.write_bytes(path.read_bytes()[:keep])
    return out


def _flip(path: Path, out: Path, at: int) -> Path:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def test_truncated_tar_names_the_rebuilt_file_and_member(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", BIG)
    b = _cut(a, tmp_path / "b.tar", 100_000)
    hint = _first_hint(_compare(a, b, cfg, ".tar"))
    assert hint.startswith("rebuilt/x.tar is truncated (in or after member 'pkg/big.txt', near byte")
    assert "Truncated tar archive" in hint


def test_truncated_official_tar_names_the_official_file(tmp_path: Path, cfg: Settings) -> None:
    b = tar(tmp_path, "b.tar", BIG)
    a = _cut(b, tmp_path / "a.tar", 100_000)
    assert _first_hint(_compare(a, b, cfg, ".tar")).startswith("official/x.tar is truncated")


def test_truncated_gzip_says_where_the_stream_ends(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar.gz", BIG, compress="gzip")
    size = a.stat().st_size
    b = _cut(a, tmp_path / "b.tar.gz", size - 100)
    hint = _first_hint(_compare(a, b, cfg, ".tar.gz"))
    assert hint.startswith("rebuilt/x.tar.gz is truncated (gzip member at byte 0, after ")
    assert f"the gzip stream ends at byte {size - 100} before its end-of-stream marker" in hint


def test_bad_gzip_crc(tmp_path: Path, cfg: Settings) -> None:
    a = tmp_path / "a.gz"
    a.write_bytes(gzip.compress(b"payload\n" * 1000, mtime=0))
    b = _flip(a, tmp_path / "b.gz", a.stat().st_size - 8)  # the first byte of the trailer's CRC-32
    hint = _first_hint(_compare(a, b, cfg, ".gz"))
    assert hint.startswith("rebuilt/x.gz is corrupt (gzip member at byte 0")
    assert "the CRC-32 or length in the gzip trailer does not match the data" in hint


def test_trailing_bytes_after_a_gzip_stream(tmp_path: Path, cfg: Settings) -> None:
    a = tmp_path / "a.gz"
    a.write_bytes(gzip.compress(b"payload\n", mtime=0))
    b = tmp_path / "b.gz"
    b.write_bytes(a.read_bytes() + b"\0garbage")
    hint = _first_hint(_compare(a, b, cfg, ".gz"))
    assert hint.startswith(f"rebuilt/x.gz is corrupt (from byte {a.stat().st_size}): 8 bytes that are not gzip")


def test_concatenated_gzip_members_are_one_stream(tmp_path: Path, cfg: Settings) -> None:
    """Not corrupt (RFC 1952): the second member is read, and its change is named."""
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(b"one\n", mtime=0) + gzip.compress(b"two\n", mtime=0))
    b.write_bytes(gzip.compress(b"one\n", mtime=0) + gzip.compress(b"TWO\n", mtime=0))
    result = _compare(a, b, cfg, ".gz")
    assert result.degradations == () and [n.unified_diff for n in kinds(result.difference, "content")] == [
        "@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"]


@pytest.mark.parametrize("tool,damage,condition", [("xz", "flip", "corrupt"), ("xz", "cut", "truncated"),
                                                   ("zstd", "cut", "truncated"), ("bzip2", "cut", "truncated")])
def test_corrupt_and_truncated_streams(tool: str, damage: str, condition: str, tmp_path: Path,
                                       cfg: Settings) -> None:
    require_tool(tool)
    a = tar(tmp_path, "a.tar.x", BIG, compress=tool)
    size = a.stat().st_size
    b = _flip(a, tmp_path / "b", size // 2) if damage == "flip" else _cut(a, tmp_path / "b", size // 2)
    hint = _first_hint(_compare(a, b, cfg, ".tar.x"))
    assert hint.startswith(f"rebuilt/x.tar.x is {condition} ({tool} stream, after ")


def test_a_tar_gz_that_is_not_gzip(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar.gz", BIG, compress="gzip")
    b = tar(tmp_path, "b.tar", BIG)  # an uncompressed tar under the name x.tar.gz
    hint = _first_hint(_compare(a, b, cfg, ".tar.gz"))
    assert hint == ("rebuilt/x.tar.gz is not gzip although its name says so (it is tar); official/x.tar.gz is "
                    "gzip; compared as bytes")


def test_truncated_zip_names_the_member_it_ends_in(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", BIG, compression=zipfile.ZIP_STORED)
    b = _cut(a, tmp_path / "b.zip", 1000)
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith("rebuilt/x.zip is truncated (in member 'big.txt' (local header at byte 0)): the file "
                           "ends at byte 1000")


def test_a_zip_member_with_a_bad_crc(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", BIG, compression=zipfile.ZIP_STORED)
    b = _flip(a, tmp_path / "b.zip", 2000)  # inside big.txt's stored bytes
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith("rebuilt/x.zip is corrupt (member 'big.txt'): the content does not match its CRC-32")


def test_truncated_deb(tmp_path: Path, cfg: Settings) -> None:
    require_tool("dpkg-deb")
    a = deb(tmp_path, "a", "1.0", BIG)
    b = _cut(a, tmp_path / "b.deb", a.stat().st_size - 500)
    hint = _first_hint(_compare(a, b, cfg, ".deb"))
    assert hint.startswith("rebuilt/x.deb is truncated (in or after member 'data.tar.xz'")


def test_truncated_rpm_names_the_payload(tmp_path: Path, cfg: Settings) -> None:
    require_tool("rpmbuild")
    a = rpm(tmp_path, 1, " ".join(f"{i * 7919 % 100003:x}" for i in range(20000)), "h")  # a payload of ~60 KiB
    b = _cut(a, tmp_path / "b.rpm", a.stat().st_size - 200)
    hint = _first_hint(_compare(a, b, cfg, ".rpm"))
    assert hint.startswith("rebuilt/x.rpm::(payload) is truncated (")


PAIRS: dict[str, Callable[[Path], tuple[Path, Path]]] = {
    "tar": lambda t: (tar(t, "a.tar", BIG), tar(t, "b.tar", {**BIG, "small.txt": "S\n"})),
    "tar.gz": lambda t: (tar(t, "a.tgz", BIG, compress="gzip"), tar(t, "b.tgz", BIG, compress="gzip", mtime=1)),
    "zip": lambda t: (zip_file(t / "a.zip", BIG), zip_file(t / "b.zip", {**BIG, "small.txt": "S\n"})),
}


@pytest.mark.parametrize("name", PAIRS)
def test_silent_on_readable_inputs(name: str, tmp_path: Path, cfg: Settings) -> None:
    a, b = PAIRS[name](tmp_path)
    result = _compare(a, b, cfg, "")
    hints = " ".join(result.difference.hints)
    assert "truncated" not in hints and "corrupt" not in hints and "although its name says so" not in hints
    assert not kinds(result.difference, "unreadable") and not kinds(result.difference, "format")
    assert result.degradations == ()


def test_the_cli_keeps_the_verdict_and_prints_the_hint_first(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    a = tar(tmp_path, "a.tar.gz", BIG, compress="gzip")
    _cut(a, tmp_path / "b.tar.gz", a.stat().st_size - 100)
    monkeypatch.chdir(tmp_path)
    assert run(["compare", "a.tar.gz", "b.tar.gz"]) == ExitCode.DIFFERENT
    out = capsys.readouterr().out.splitlines()
    hints = [i for i, line in enumerate(out) if "hint:" in line]
    assert hints and "b.tar.gz is truncated" in out[hints[0]] and hints[0] < 5
    assert sorted(os.listdir(tmp_path)) == ["a.tar.gz", "a.tar.gz-src", "b.tar.gz"], "nothing left behind"


def _damaged(data: bytes, rng: random.Random, how: str) -> bytes:
    damaged = bytearray(data)
    if how == "cut":
        return bytes(damaged[:rng.randrange(len(damaged))])
    for _ in range(1 if how == "flip" else 20):
        damaged[rng.randrange(len(damaged))] ^= 1 + rng.randrange(255)
    return bytes(damaged)


SEEDED: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "tar": (lambda t: tar(t, "a.tar", BIG), ("cut", "flip", "many")),
    "tar.gz": (lambda t: tar(t, "a.tgz", BIG, compress="gzip"), ("cut", "flip", "many")),
    "tar.xz": (lambda t: tar(t, "a.txz", BIG, compress="xz"), ("cut", "flip", "many")),
    "zip": (lambda t: zip_file(t / "a.zip", BIG), ("cut", "flip", "many")),
    "rpm": (lambda t: rpm(t, 1, "x" * 3000, "h"), ("cut", "flip", "many")),
    "deb": (lambda t: deb(t, "a", "1.0", BIG), ("cut", "flip", "many")),
    "cpio": (lambda t: cpio(t, "a.cpio", BIG), ("cut", "flip", "many")),
}


@pytest.mark.parametrize("name", SEEDED)
def test_seeded_damage_never_reaches_an_internal_error(name: str, tmp_path: Path, cfg: Settings) -> None:
    """Cut or damaged at random (a fixed seed): every failure is a named one (a comment, the
    pair compared as bytes), never an exception from a library or from our code."""
    require_tool({"rpm": "rpmbuild", "deb": "dpkg-deb", "cpio": "cpio"}.get(name, "tar"))
    build, damages = SEEDED[name]
    original = build(tmp_path)
    rng, damaged = random.Random(14), tmp_path / "damaged"
    started = time.monotonic()
    for round_ in range(12):
        damaged.write_bytes(_damaged(original.read_bytes(), rng, damages[round_ % len(damages)]))
        result = compare_paths(original, damaged, cfg)  # raises on anything but a comparison
        assert result.identical == (damaged.read_bytes() == original.read_bytes())
    assert time.monotonic() - started < 60


def test_a_zip_cut_inside_its_central_directory(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", BIG)
    first, last = a.read_bytes().index(b"PK\x01\x02"), a.read_bytes().rindex(b"PK\x01\x02")
    b = _cut(a, tmp_path / "b.zip", last + 10)
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith(f"rebuilt/x.zip is truncated (central directory from byte {first}): the file ends at "
                           f"byte {last + 10}, inside its central directory")


def _member_end(path: Path, name: str) -> int:
    """Where member ``name``'s data ends in a plain ustar/GNU tar (its header, then its 512-byte blocks)."""
    data, at = path.read_bytes(), 0
    while data[at:at + 512] != bytes(512):
        here = data[at:at + 100].split(b"\0")[0].decode()
        at += 512 + -(-int(data[at + 124:at + 136].strip(b"\0 ") or b"0", 8) // 512) * 512
        if here == name:
            return at
    raise AssertionError(f"no member {name} in {path}")


def test_a_tar_cut_between_members_is_truncated(tmp_path: Path, cfg: Settings) -> None:
    """libarchive reads such a tar without error: the missing end-of-archive marker says it."""
    a = tar(tmp_path, "a.tar", BIG)
    b = _cut(a, tmp_path / "b.tar", _member_end(a, "pkg/big.txt"))
    result = _compare(a, b, cfg, ".tar")
    assert _first_hint(result) == ("rebuilt/x.tar is truncated (after member 'pkg/big.txt', at byte "
                                   f"{b.stat().st_size}): the file ends without tar's end-of-archive marker (zero "
                                   "blocks); members after this point may be missing")
    assert kinds(result.difference, "member")[0].unified_diff == "-pkg/small.txt (2 bytes)\n", "members still compared"


def test_a_complete_tar_has_its_end_marker(tmp_path: Path, cfg: Settings) -> None:
    for extra in ((), ("--format=pax",), ("--format=gnu", "--sparse")):
        a = tar(tmp_path, f"a{len(extra)}.tar", {"f": "x\n", "d/" + "long" * 40: "y\n"}, extra=extra)
        b = tar(tmp_path, f"b{len(extra)}.tar", {"f": "z\n", "d/" + "long" * 40: "y\n"}, extra=extra)
        result = _compare(a, b, cfg, ".tar")
        assert not kinds(result.difference, "unreadable") and member_paths(result.difference) == ["pkg/f"]


def test_overlapping_zip_members_are_refused_quickly(tmp_path: Path, cfg: Settings) -> None:
    """A zip bomb's layout: 2,000 directory records all pointing at one 1 MiB member (reading
    each would hash 2 GiB); refused from the directory alone."""
    a = zip_file(tmp_path / "a.zip", {"m0000": "x" * (1 << 20)}, compression=zipfile.ZIP_STORED)
    data = a.read_bytes()
    start = data.rindex(b"PK\x01\x02")
    end = data.rindex(b"PK\x05\x06")
    record = data[start:end]
    records = b"".join(record.replace(b"m0000", b"m%04d" % i) for i in range(2000))
    b = tmp_path / "b.zip"
    b.write_bytes(data[:start] + records + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2000, 2000, len(records),
                                                        start, 0))
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith("rebuilt/x.zip is corrupt (member 'm0001' at byte 0): members 'm0000' and 'm0001' overlap")


def test_a_damaged_name_length_in_the_zip_directory_is_corruption_not_a_budget(tmp_path: Path,
                                                                               cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", BIG)
    record = a.read_bytes().rindex(b"PK\x01\x02")
    b = _flip(a, tmp_path / "b.zip", record + 29)  # the high byte of the name length: ~65,000 bytes
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith(f"rebuilt/x.zip is corrupt (byte {record}): central directory record 1 runs past")


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_size_the_method_cannot_produce_is_corruption_not_a_budget(compression: int, tmp_path: Path,
                                                                     cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", BIG, compression=compression)
    record = a.read_bytes().rindex(b"PK\x01\x02")
    b = _flip(a, tmp_path / "b.zip", record + 27)  # the high byte of the uncompressed size: ~4 GB declared
    hint = _first_hint(_compare(a, b, cfg, ".zip"))
    assert hint.startswith("rebuilt/x.zip is corrupt (member 'small.txt'): ") and "cannot hold" in hint


def test_memory_stays_bounded_on_a_large_truncated_archive(tmp_path: Path) -> None:
    """A 32 MiB member cut short inside a .tar.gz: streamed, never held whole (peak RSS of the CLI)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "blob").write_bytes(random.Random(12).randbytes(32 << 20))
    a = tmp_path / "a.tar.gz"
    subprocess.run(f"tar -C {src} -cf - blob | gzip -1 > {a}", shell=True, check=True)
    b = _cut(a, tmp_path / "b.tar.gz", a.stat().st_size - 4096)
    probe = ("import sys; from tests.peak import own_peak_kib; from verifier.cli.app import run;"
             " code = run(['compare', sys.argv[1], sys.argv[2]]); print(code, own_peak_kib(), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, str(a), str(b)], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent.parent, timeout=120)
    code, peak_kib = map(int, done.stderr.split()[-2:])
    assert code == ExitCode.DIFFERENT and "b.tar.gz is truncated" in done.stdout
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"


def test_truncated_squashfs_and_iso_images(tmp_path: Path, cfg: Settings) -> None:
    require_tool("mksquashfs")
    require_tool("genisoimage")
    for a in (squashfs(tmp_path, "a", BIG), iso(tmp_path, "a", BIG)):
        b = _cut(a, tmp_path / f"b{a.suffix}", a.stat().st_size // 2)
        hint = _first_hint(_compare(a, b, cfg, a.suffix))
        assert hint.startswith(f"rebuilt/x{a.suffix} is truncated (ends at byte {b.stat().st_size}): the image has")
