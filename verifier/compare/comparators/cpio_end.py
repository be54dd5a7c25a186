"""What follows a cpio archive's TRAILER!!! entry. libarchive stops reading there, so bytes
after it belong to no member: a walk over the headers (newc/crc and odc, the portable
formats; binary cpio is not walked) finds where the trailer ends, and data that is not
zero after it is compared (zero padding of any length, to the block size, is not)."""

from __future__ import annotations

from pathlib import Path

from verifier.compare.comparators.tar_end import bytes_after, trailing_node
from verifier.compare.difference import Difference
from verifier.compare.interface import Side
from verifier.compare.regular import open_regular

TRAILER = b"TRAILER!!!"
MAX_HEADERS = 1_000_000
NEWC = (b"070701", b"070702")
ODC = b"070707"


def _pad4(n: int) -> int:
    return -(-n // 4) * 4


def trailer_end(path: Path) -> int | None:
    """The offset just past the TRAILER!!! entry, None when the walk cannot read a header."""
    at = 0
    with open_regular(path) as f:
        for _ in range(MAX_HEADERS):
            f.seek(at)
            magic = f.read(6)
            try:
                if magic in NEWC:
                    rest = f.read(104)
                    size, namesize = int(rest[48:56], 16), int(rest[88:96], 16)
                    name = f.read(namesize)
                    at = _pad4(at + 110 + namesize)
                    at = at if name.rstrip(b"\0") == TRAILER else _pad4(at + size)
                elif magic == ODC:
                    rest = f.read(70)
                    namesize, size = int(rest[53:59], 8), int(rest[59:70], 8)
                    name = f.read(namesize)
                    at = at + 76 + namesize + (size if name.rstrip(b"\0") != TRAILER else 0)
                else:
                    return None
            except ValueError:
                return None
            if name.rstrip(b"\0") == TRAILER:
                return at
    return None


def _after(side: Side) -> tuple[int, str] | None:
    at = trailer_end(side.path)
    return None if at is None else bytes_after(side.path, at)


def trailer_node(a: Side, b: Side) -> Difference | None:
    return trailing_node(a, b, _after(a), _after(b), "cpio's TRAILER!!! entry")
