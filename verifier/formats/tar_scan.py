"""The sparse maps a plain tar declares, counted from its headers before libarchive reads it.

libarchive builds a member's whole sparse map in memory (about 80 bytes an entry) before
its size can be checked; a GNU PAX 1.0 map costs 4 bytes of archive an entry, so a hostile
one would cost 20 times the archive in memory. Walking the 512-byte headers first (data
skipped) counts every map: GNU old format ('S' and its extension headers), PAX 0.0 and 0.1
(``GNU.sparse.numblocks``) and PAX 1.0 (the count on the first line of the member's data).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK = 512
MAX_PAX = 1 << 20  # libarchive refuses larger extended headers
SLOT = 24  # one old-format map entry: offset and size, 12 bytes each


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256; a negative size is libarchive's to refuse
        return 0 if field[0] == 0xFF else int.from_bytes(field[1:], "big")
    try:
        return int(field.replace(b"\0", b" ").strip() or b"0", 8)
    except ValueError:
        return 0


def _pax(data: bytes) -> dict[bytes, bytes]:
    """The records of an extended header (a repeated key keeps its last value)."""
    records, at = {}, 0
    while (space := data.find(b" ", at)) > at:
        length = int(data[at:space]) if data[at:space].isdigit() else 0
        if length <= space - at:
            break
        key, _, value = data[space + 1: at + length - 1].partition(b"=")
        records[key] = value
        at += length
    return records


def _slots(block: bytes, start: int, count: int) -> int:
    """Map entries used in ``count`` slots from ``start`` (filled from the first: a full
    block is recognised by its last slot)."""
    if block[start + SLOT * (count - 1): start + SLOT * count].strip(b"\0"):
        return count
    return sum(1 for i in range(count) if block[start + SLOT * i: start + SLOT * (i + 1)].strip(b"\0"))


def _old_format(f: BinaryIO, header: bytes) -> int:
    entries, extended = _slots(header, 386, 4), header[482]
    while extended and len(block := f.read(BLOCK)) == BLOCK:
        entries, extended = entries + _slots(block, 0, 21), block[504]
    return entries


def _first_line_number(f: BinaryIO) -> int:
    line = f.read(BLOCK).split(b"\n", 1)[0]
    return int(line) if line.isdigit() else 0


def sparse_maps_of(path: Path) -> Iterator[tuple[bytes, int]]:
    with open(path, "rb") as f:
        yield from sparse_maps(f)


def sparse_maps(f: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(member name, map entries) for each sparse member of the plain tar read from ``f``."""
    pax: dict[bytes, bytes] = {}
    while len(header := f.read(BLOCK)) == BLOCK and header.strip(b"\0"):
        size, flag, at = _number(header[124:136]), header[156:157], f.tell()
        name = pax.get(b"GNU.sparse.name") or pax.get(b"path") or header[:100].split(b"\0", 1)[0]
        if flag in (b"x", b"X"):
            pax = _pax(f.read(min(size, MAX_PAX)))
        elif flag in (b"L", b"K", b"g"):
            pass  # a long name or link, or global records: they belong to the next header
        elif flag == b"S":
            yield name, _old_format(f, header)
            at, pax = f.tell(), {}
        elif pax.get(b"GNU.sparse.major") == b"1":
            yield name, _first_line_number(f)
            pax = {}
        elif b"GNU.sparse.numblocks" in pax:
            yield name, int(pax[b"GNU.sparse.numblocks"]) if pax[b"GNU.sparse.numblocks"].isdigit() else 0
            pax = {}
        else:
            pax = {}
        f.seek(at + -(-size // BLOCK) * BLOCK)
