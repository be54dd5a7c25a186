"""Does a tar end as the format says, with a zero block after its last member?

libarchive reads a tar cut exactly after a member (as a write that stopped at a record
boundary leaves it) without an error: the members simply stop. Walking the 512-byte
headers by their size fields finds whether the end-of-archive marker is there; when it
is not, the file is said to be truncated, after which member and at which byte, while
the members read are still compared.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.compare.interface import Side, TruncatedArchive
from verifier.compare.regular import open_regular
from verifier.digests import CHUNK
from verifier.printable import one_line

BLOCK = 512
NO_DATA = frozenset(b"123456")  # links, devices, directories, FIFOs: their size field carries no data
MAX_HEADERS = 1_000_000


def _number(field: bytes) -> int | None:
    if field[:1] and field[0] & 0x80:  # GNU base-256
        return int.from_bytes(field[1:], "big")
    digits = field.replace(b"\0", b" ").strip()
    try:
        return int(digits or b"0", 8)
    except ValueError:
        return None


def _checksum_ok(header: bytes) -> bool:
    stored = _number(header[148:156])
    return stored is not None and stored == sum(header[:148]) + 8 * 32 + sum(header[156:])


def _sparse_blocks(f, header: bytes) -> int:  # type: ignore[no-untyped-def]
    """GNU sparse members ('S') may be followed by extension headers while byte 482 says so."""
    count, extended = 0, header[482]
    while extended and count < MAX_HEADERS:
        block = f.read(BLOCK)
        if len(block) < BLOCK:
            break
        count, extended = count + 1, block[504]
    return count


def _name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0]
    if header[257:263] == b"ustar\0" and header[345]:  # POSIX ustar: a prefix before the name
        name = header[345:500].split(b"\0", 1)[0] + b"/" + name
    return name.decode("utf-8", "surrogateescape")


def _walk(path: Path) -> tuple[str | None, int, bool] | None:
    """(the last member's name, an offset, whether the marker is there): the marker's offset
    when it is, where the file ends when it ends after a complete member without it; None
    when the walk meets something it cannot read (then libarchive's own error speaks)."""
    size, at, last = path.stat().st_size, 0, None
    with open_regular(path) as f:
        for _ in range(MAX_HEADERS):
            f.seek(at)
            header = f.read(BLOCK)
            if len(header) < BLOCK:
                return (last, size, False) if not header else None
            if header == bytes(BLOCK):
                return last, at, True
            length = _number(header[124:136])
            if length is None or not _checksum_ok(header):
                return None
            data = 0 if header[156] in NO_DATA else -(-length // BLOCK)
            extra = _sparse_blocks(f, header) if header[156:157] == b"S" else 0
            at += BLOCK * (1 + extra + data)
            if header[156:157] not in (b"x", b"g", b"L", b"K"):  # pax and GNU long-name records precede their member
                last = _name(header)
            if at > size:
                return None  # cut inside a member: libarchive says so
    return None


def missing_end(path: Path) -> tuple[str | None, int] | None:
    """(the last member's name, where the file ends) when the file ends after a complete
    member without the end-of-archive marker; None otherwise."""
    found = _walk(path)
    return (found[0], found[1]) if found is not None and not found[2] else None


def bytes_after(path: Path, at: int) -> tuple[int, str] | None:
    """(the first byte that is not zero from ``at`` on, the sha256 of everything from ``at``),
    None when there is nothing but zeros there: archivers pad to their record or block size
    with zeros, whose length is not compared."""
    h, first = hashlib.sha256(), None
    with open_regular(path) as f:
        f.seek(at)
        while chunk := f.read(CHUNK):
            if first is None and chunk.strip(b"\0"):
                first = at + len(chunk) - len(chunk.lstrip(b"\0"))
            h.update(chunk)
            at += len(chunk)
    return (first, h.hexdigest()) if first is not None else None


def trailer(path: Path) -> tuple[int, str] | None:
    """What follows tar's end-of-archive marker (``bytes_after``)."""
    found = _walk(path)
    return bytes_after(path, found[1]) if found is not None and found[2] else None


def trailing_node(a: Side, b: Side, ta: tuple[int, str] | None, tb: tuple[int, str] | None,
                  end: str) -> Difference | None:
    """Data after the archive's end (``end`` names it) that differs: no member holds it, so
    it is reported (kind ``bytes``: no normaliser removes it)."""
    if ta == tb:
        return None
    where = "; ".join(f"{s.label}: from byte {t[0]}" for s, t in ((a, ta), (b, tb)) if t is not None)
    return Difference(f"{a.label} (after the end of the archive)", f"{b.label} (after the end of the archive)",
                      (f"data that is not zero follows {end} and differs ({where})",), kind="bytes")


def trailer_node(a: Side, b: Side) -> Difference | None:
    return trailing_node(a, b, trailer(a.path), trailer(b.path), "tar's end-of-archive marker")


def end_node(a: Side, b: Side) -> Difference | None:
    """An ``unreadable`` node for the side that ends without the marker (the first found)."""
    for side in (b, a):
        found = missing_end(side.path)
        if found is not None:
            name, offset = found
            place = f"after member '{one_line(name)}', at byte {offset}" if name else f"at byte {offset}"
            said = TruncatedArchive(side.label, "the file ends without tar's end-of-archive marker (zero blocks); "
                                    "members after this point may be missing", place)
            return Difference(a.label, b.label, (said.message,), kind="unreadable")
    return None
