"""Root-cause hints: each fires on the pattern it claims, and not on an unrelated difference
of the same kind of artifact (docs/hints.md lists them)."""

from __future__ import annotations

import gzip
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH, cpio, make_tree, pyc, rpm, tar, zip_file
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.compare.hints import BuildClock
from verifier.settings import Settings

BUILD = 1763800000  # when "the rebuild" ran in these cases
Pair = tuple[Path, Path, BuildClock]


def _texts(tmp: Path, a: str, b: str) -> Pair:
    (tmp / "a.txt").write_text(a)
    (tmp / "b.txt").write_text(b)
    return tmp / "a.txt", tmp / "b.txt", BuildClock(EPOCH, BUILD, BUILD + 30)


def _tars(tmp: Path, b_mtime: int, *, b_text: str = "x\n", b_extra: tuple[str, ...] = ()) -> Pair:
    a = tar(tmp, "a.tar", {"f": "x\n", "g": "y\n"})
    b = tar(tmp, "b.tar", {"f": b_text, "g": "y\n"}, mtime=b_mtime, extra=b_extra)
    return a, b, BuildClock(EPOCH, BUILD, BUILD + 30)


def _modes(tmp: Path, mode: int) -> Pair:
    outs = []
    for side, m in (("a", 0o644), ("b", mode)):
        src = make_tree(tmp / side, {"f": "x\n"})
        (src / "f").chmod(m)
        out = tmp / f"{side}.tar"
        subprocess.run(["tar", "--owner=0", "--group=0", "-C", str(src), "-cf", str(out), "f"], check=True)
        outs.append(out)
    return outs[0], outs[1], BuildClock()


def _gzips(tmp: Path, b_mtime: int, b_data: bytes = b"payload\n") -> Pair:
    (tmp / "a.gz").write_bytes(gzip.compress(b"payload\n", mtime=0))
    (tmp / "b.gz").write_bytes(gzip.compress(b_data, mtime=b_mtime))
    return tmp / "a.gz", tmp / "b.gz", BuildClock(EPOCH)


def _zips(tmp: Path, extra: bytes, stamp: tuple[int, ...] = (2023, 11, 14, 22, 13, 20)) -> Pair:
    a = zip_file(tmp / "a.whl", {"m.py": "x\n"})
    b = zip_file(tmp / "b.whl", {"m.py": "x\n"}, extra=extra, date_time=stamp)
    return a, b, BuildClock()


def _pycs(tmp: Path, b_mtime: int, b_source: str = "x = 1\n") -> Pair:
    return pyc(tmp, "a", "x = 1\n"), pyc(tmp, "b", b_source, source_mtime=b_mtime), BuildClock()


def _rpms(tmp: Path, host: str, epoch: int) -> Pair:
    require_tool("rpmbuild")
    return rpm(tmp, 1, "same", "host-a"), rpm(tmp, 1, "same", host, epoch), BuildClock()


def _sorted_lines(tmp: Path, b: str) -> Pair:
    return _texts(tmp, "Banana\napple\ncherry\n", b)


# hint substring -> (a pair showing the pattern, a pair with an unrelated difference)
CASES: dict[str, tuple[Callable[[Path], Pair], Callable[[Path], Pair]]] = {
    "member timestamps differ": (lambda t: _tars(t, EPOCH + 5), lambda t: _tars(t, EPOCH, b_text="z\n")),
    "later than SOURCE_DATE_EPOCH": (lambda t: _tars(t, EPOCH + 5), lambda t: _tars(t, EPOCH - 5)),
    "one side is clamped to SOURCE_DATE_EPOCH": (lambda t: _tars(t, EPOCH - 5), lambda t: _tars(t, EPOCH, b_text="z\n")),
    "a timestamp equals the time of the build": (lambda t: _tars(t, BUILD + 3), lambda t: _tars(t, BUILD - 3600)),
    "member order differs": (lambda t: _tars_in_order(t, True), lambda t: _tars_in_order(t, False)),
    "ownership differs": (lambda t: _tars(t, EPOCH, b_extra=("--owner=1000",)),
                          lambda t: _tars(t, EPOCH, b_extra=("--mode=g+w",))),
    "file permissions differ": (lambda t: _modes(t, 0o664), lambda t: _tars(t, EPOCH, b_text="z\n")),
    "different umasks": (lambda t: _modes(t, 0o664), lambda t: _modes(t, 0o755)),
    "setuid/setgid/sticky bits differ": (lambda t: _modes(t, 0o4644), lambda t: _modes(t, 0o664)),
    "gzip header records a timestamp": (lambda t: _gzips(t, EPOCH), lambda t: _gzips(t, 0, b"other\n")),
    "zip extra fields differ": (lambda t: _zips(t, b"\xfe\xca\x00\x00"), lambda t: _zips(t, b"", (2024, 1, 1, 0, 0, 0))),
    "zip entry timestamps differ": (lambda t: _zips(t, b"", (2024, 1, 1, 0, 0, 0)), lambda t: _zips(t, b"\xfe\xca\x00\x00")),
    ".pyc files record their source's mtime": (lambda t: _pycs(t, EPOCH + 9), lambda t: _pycs(t, EPOCH, "x = 2\n")),
    "RPM BUILDTIME differs": (lambda t: _rpms(t, "host-a", EPOCH + 10), lambda t: _rpms(t, "host-b", EPOCH)),
    "RPM BUILDHOST differs": (lambda t: _rpms(t, "host-b", EPOCH), lambda t: _rpms(t, "host-a", EPOCH + 10)),
    "build path is embedded": (lambda t: _texts(t, "built in /build/pkg-Xa1/src\n", "built in /build/pkg-Qz9/src\n"),
                               lambda t: _texts(t, "built in /build/pkg/src\n", "made in /build/pkg/src\n")),
    "time zone leaks": (lambda t: _texts(t, "generated 2023-11-14 22:13:20\n", "generated 2023-11-14 23:13:20\n"),
                        lambda t: _texts(t, "generated 2023-11-14 22:13:20\n", "generated 2023-11-14 22:13:27\n")),
    "a date or time that differs": (lambda t: _texts(t, "built: 2026-11-22T12:19:30Z\n", "built: 2026-11-22T12:19:33Z\n"),
                                    lambda t: _texts(t, "v: 1\nbuilt: 2026-11-22T12:19:30Z\n",
                                                     "v: 2\nbuilt: 2026-11-22T12:19:30Z\n")),
    "embedded date equals the time of the build": (
        lambda t: _texts(t, "built 2023-11-14 22:13:20\n", "built 2025-11-22 08:26:41\n"),
        lambda t: _texts(t, "built 2023-11-14 22:13:20\n", "built 2024-01-01 00:00:00\n")),
    "the locale leaks into sorting": (lambda t: _sorted_lines(t, "apple\nBanana\ncherry\n"),
                                      lambda t: _sorted_lines(t, "cherry\nBanana\napple\n")),
    "b.tar is truncated": (lambda t: _damaged_tar(t), lambda t: _tars(t, EPOCH, b_text="z\n")),
    "b.gz is corrupt": (lambda t: _damaged_gzip(t), lambda t: _gzips(t, 0, b"other\n")),
    "b.tar.gz is not gzip although its name says so": (lambda t: _not_gzip(t, "b.tar.gz"),
                                                       lambda t: _tars(t, EPOCH, b_text="z\n")),
    "formats differ": (lambda t: _not_gzip(t, "b.bin"), lambda t: _not_gzip(t, "b.tar.gz")),
    "cpio records inode numbers": (lambda t: (cpio(t, "a.cpio", {"f": "x\n"}), cpio(t, "b.cpio", {"f": "x\n"}), BuildClock()),
                                   lambda t: _cpio_same_inodes(t)),
}


def _damaged_tar(tmp: Path) -> Pair:
    a = tar(tmp, "a.tar", {"f": "x\n" * 20000})
    b = tmp / "b.tar"
    b.write_bytes(a.read_bytes()[:20000])
    return a, b, BuildClock()


def _damaged_gzip(tmp: Path) -> Pair:
    a, b, clock = _gzips(tmp, 0)
    data = bytearray(a.read_bytes())
    data[-8] ^= 0xFF  # the trailer's CRC-32
    b.write_bytes(bytes(data))
    return a, b, clock


def _not_gzip(tmp: Path, name: str) -> Pair:
    a = tar(tmp, "a.tar.gz", {"f": "x\n"}, compress="gzip")
    b = tar(tmp, name, {"f": "x\n"})
    return a, b, BuildClock()


def _tars_in_order(tmp: Path, reorder: bool) -> Pair:
    src = make_tree(tmp / "s", {"a": "1", "b": "2"})
    outs = []
    for side, names in (("x", ["a", "b"]), ("y", ["b", "a"] if reorder else ["a", "b"])):
        out = tmp / f"{side}.tar"
        owner = "--owner=0" if side == "x" or reorder else "--owner=7"
        subprocess.run(["tar", owner, "--group=0", "-C", str(src), "-cf", str(out), *names], check=True)
        outs.append(out)
    return outs[0], outs[1], BuildClock()


def _cpio_same_inodes(tmp: Path) -> Pair:
    a = cpio(tmp, "a.cpio", {"f": "x\n"})
    b = tmp / "b.cpio"
    b.write_bytes(a.read_bytes().replace(b"x\n", b"z\n"))
    return a, b, BuildClock()


def _hints(pair: Pair, cfg: Settings) -> tuple[str, ...]:
    a, b, clock = pair
    result = compare_paths(a, b, cfg, clock=clock)
    assert not result.identical, "every case is a differing pair"
    return result.difference.hints


@pytest.mark.parametrize("hint", sorted(CASES))
def test_hint_fires_on_its_pattern(hint: str, tmp_path: Path, cfg: Settings) -> None:
    require_tool("cpio")
    positive, _ = CASES[hint]
    hints = _hints(positive(tmp_path), cfg)
    assert any(hint in h for h in hints), hints


@pytest.mark.parametrize("hint", sorted(CASES))
def test_hint_does_not_fire_on_an_unrelated_difference(hint: str, tmp_path: Path, cfg: Settings) -> None:
    require_tool("cpio")
    _, negative = CASES[hint]
    hints = _hints(negative(tmp_path), cfg)
    assert not any(hint in h for h in hints), hints


def test_a_content_change_alone_gives_no_hint(tmp_path: Path, cfg: Settings) -> None:
    a, b, _ = _tars(tmp_path, EPOCH, b_text="z\n")
    assert _hints((a, b, BuildClock(EPOCH, BUILD, BUILD + 30)), cfg) == ()


def test_zip_date_time_during_the_build(tmp_path: Path, cfg: Settings) -> None:
    """zip times are local wall-clock fields: read as UTC, they meet the build window."""
    a, b, _ = _zips(tmp_path, b"", (2025, 11, 22, 8, 26, 42))
    hints = _hints((a, b, BuildClock(None, BUILD, BUILD + 30)), cfg)
    assert any("equals the time of the build" in h for h in hints)
