"""A zip's central directory, read by us rather than by zipfile, so that every layout a
real tool writes is read as a zip:

- the usual one (local headers, then the central directory, then its end record);
- data before the first local header (self-extracting archives, a script or stub in
  front): the directory's offsets are relative to where the zip starts, which is found
  from where the directory really is (as zipfile and Info-ZIP do);
- the central directory first (Mozilla's optimised jars, Firefox's ``omni.ja``: a 4-byte
  preload length, the directory, the members, then the end record): its offsets are
  from the start of the file, which zipfile misreads (it finds no directory).

The end-of-central-directory record is located, the directory found where it says or
where it must be, and the base of the offsets chosen as the one at which the first
member's local header is found. Anything that contradicts the format is a
CorruptArchive or TruncatedArchive naming the member and the offset.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier.compare.interface import CorruptArchive, Side, TruncatedArchive, UnreadableInput
from verifier.compare.regular import open_regular
from verifier.digests import CHUNK
from verifier.errors import LimitExceeded
from verifier.formats.reading import text

END = struct.Struct("<4s4H2LH")  # signature, disk, directory disk, entries here, entries, size, offset, comment length
END64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk, offset of the zip64 end record, disks
END64 = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions, disks, entries here, entries, size, offset
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # as APPNOTE 4.3.12
LOCAL = struct.Struct("<4s2B4HL2L2H")  # as APPNOTE 4.3.7
MAX_COMMENT = 0xFFFF
DEFLATE_MAX_RATIO = 1032
MAX_WALK = 100_000  # local headers walked at most to say where a zip without an end record stops
STANDARD, PREFIXED, DIRECTORY_FIRST = "standard", "data before the first member", "central directory first (omni.ja)"
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated", zipfile.ZIP_BZIP2: "bzip2",
           zipfile.ZIP_LZMA: "lzma"}


@dataclass(frozen=True)
class Entry:
    """One central-directory record, as written."""

    name: str
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int
    create_system: int
    external_attr: int
    extra: bytes
    comment: bytes
    offset: int  # of the local header, relative to the directory's base

    @property
    def date_time(self) -> tuple[int, ...]:
        d, t = self.dos_date, self.dos_time
        return ((d >> 9) + 1980, (d >> 5) & 0xF, d & 0x1F, t >> 11, (t >> 5) & 0x3F, (t & 0x1F) * 2)

    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class Directory:
    entries: tuple[Entry, ...]
    comment: bytes
    base: int  # added to every entry's offset to find its local header
    layout: str
    prefix: int  # bytes before the zip proper: a stub, or omni.ja's preload length and directory
    directory_at: int = 0  # where the central directory was found
    directory_size: int = 0
    end_at: int = 0  # the zip64 end record or the end record: from here to the file's end is the end


def _find_end(f: BinaryIO, size: int, side: Side) -> int:
    """The offset of the end-of-central-directory record, whose comment ends at the file's end."""
    start = max(0, size - END.size - MAX_COMMENT)
    f.seek(start)
    tail = f.read()
    candidates = []
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + END.size <= len(tail):
            (comment_length,) = struct.unpack_from("<H", tail, at + 20)
            if at + END.size + comment_length == len(tail):
                return start + at
            candidates.append(start + at)
        at = tail.rfind(b"PK\x05\x06", 0, at)
    if candidates:
        return candidates[0]  # trailing bytes after the comment: still the last record
    raise _no_end(f, size, side)


def ends_with_zip(path: Path) -> bool:
    """An end record whose comment ends the file and whose directory is right before it: a
    zip with something in front (a stub, a script). Padded containers (tar) never match."""
    size = path.stat().st_size
    with open_regular(path) as f:
        start = max(0, size - END.size - MAX_COMMENT)
        f.seek(start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        while at >= 0:
            if at + END.size <= len(tail):
                fields = END.unpack_from(tail, at)
                if at + END.size + fields[7] == len(tail):
                    return _signature_at(f, start + at - fields[5], b"PK\x01\x02")
            at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def _no_end(f: BinaryIO, size: int, side: Side) -> CorruptArchive:
    """No end record: walk the local headers from the start to say where the file stops."""
    f.seek(0)
    if f.read(4) != b"PK\x03\x04":
        return CorruptArchive(side.label, "no end-of-central-directory record", "the end of the file")
    at, last = 0, None
    for _ in range(MAX_WALK):
        if at >= size:
            break
        f.seek(at)
        header = f.read(LOCAL.size)
        if header[:4] == b"PK\x01\x02":
            return TruncatedArchive(side.label, f"the file ends at byte {size}, inside its central directory",
                                    f"central directory from byte {at}")
        if len(header) < LOCAL.size or header[:4] != b"PK\x03\x04":
            break
        fields = LOCAL.unpack(header)
        name = f.read(fields[10]).decode("utf-8", "replace")
        data_end = at + LOCAL.size + fields[10] + fields[11] + fields[8]
        if fields[3] & 0x08 and fields[8] == 0:
            return TruncatedArchive(side.label, f"no end-of-central-directory record; the file ends after "
                                    f"byte {size}", f"in or after member {name!r} (local header at byte {at})")
        if data_end > size:
            return TruncatedArchive(side.label, f"the file ends at byte {size}, {data_end - size} bytes before the "
                                    f"member's data ends, and has no central directory",
                                    f"in member {name!r} (local header at byte {at})")
        at, last = data_end, name
    where = f"after member {last!r}, at byte {at}" if last is not None else f"at byte {at}"
    return TruncatedArchive(side.label, "the file ends before its central directory", where)


def _end_record(f: BinaryIO, size: int, side: Side) -> tuple[int, int, int, int, bytes]:
    """(entries, directory size, directory offset as written, where the directory must end, comment)."""
    at = _find_end(f, size, side)
    f.seek(at)
    _, _, _, _, count, cd_size, cd_offset, comment_length = END.unpack(f.read(END.size))
    comment = f.read(comment_length)
    directory_end = at
    if at >= END64_LOCATOR.size:
        f.seek(at - END64_LOCATOR.size)
        locator = END64_LOCATOR.unpack(f.read(END64_LOCATOR.size))
        if locator[0] == b"PK\x06\x07":
            end64_at = at - END64_LOCATOR.size - END64.size
            f.seek(end64_at)
            record = f.read(END64.size)
            if len(record) != END64.size or record[:4] != b"PK\x06\x06":
                raise CorruptArchive(side.label, "the zip64 end record is not where its locator says",
                                     f"byte {end64_at}")
            _, _, _, _, _, _, _, count, cd_size, cd_offset = END64.unpack(record)
            directory_end = end64_at
    return count, cd_size, cd_offset, directory_end, comment


def _signature_at(f: BinaryIO, at: int, signature: bytes) -> bool:
    if at < 0:
        return False
    f.seek(at)
    return f.read(4) == signature


def _zip64(entry: list[int], extra: bytes) -> None:
    """Sizes and offset stored as 0xFFFFFFFF are in the zip64 extra field (id 1), in this order."""
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        if tag == 1:
            available = max(0, min(length, len(extra) - at - 4))
            values = iter(struct.unpack_from(f"<{available // 8}Q", extra, at + 4))
            for i in (0, 1, 2):  # size, compressed size, offset
                if entry[i] == 0xFFFFFFFF:
                    entry[i] = next(values, entry[i])
            return
        at += 4 + length


def _entries(f: BinaryIO, at: int, count: int, cd_size: int, side: Side, max_name: int) -> list[Entry]:
    f.seek(at)
    entries, pos, end = [], at, at + cd_size  # pos tracked here: tell() costs a system call per record
    for _ in range(count):
        record = f.read(CENTRAL.size)
        if len(record) != CENTRAL.size or record[:4] != b"PK\x01\x02":
            raise CorruptArchive(side.label, f"central directory record {len(entries)} of {count} is not a record",
                                 f"byte {pos}")
        (_, _, create_system, _, _, flags, method, dos_time, dos_date, crc, compressed, size, name_length,
         extra_length, comment_length, _, _, external_attr, offset) = CENTRAL.unpack(record)
        if pos + CENTRAL.size + name_length + extra_length + comment_length > end:  # a damaged length, not a long name
            raise CorruptArchive(side.label, f"central directory record {len(entries)} runs past the directory's "
                                 f"end (byte {end})", f"byte {pos}")
        if name_length > max_name:
            raise LimitExceeded(f"{side.label}: a member name is longer than {max_name} bytes (limit "
                                f"max_name_length={max_name}; raise it with --unpack-limit max_name_length=N)")
        raw_name, extra, comment = f.read(name_length), f.read(extra_length), f.read(comment_length)
        pos += CENTRAL.size + name_length + extra_length + comment_length
        numbers = [size, compressed, offset]
        _zip64(numbers, extra)
        name = text(raw_name)  # its bytes, with or without the UTF-8 flag (see formats.reading.text)
        entries.append(Entry(name, flags, method, dos_time, dos_date, crc, numbers[1], numbers[0], create_system,
                             external_attr, extra, comment, numbers[2]))
    return entries


def _base(f: BinaryIO, entries: list[Entry], candidates: list[int], side: Side) -> int:
    """The base at which the first member's local header is found."""
    if not entries:
        return candidates[0]
    first = min(entries, key=lambda e: e.offset)
    for base in dict.fromkeys(candidates):
        if _signature_at(f, base + first.offset, b"PK\x03\x04"):
            return base
    raise CorruptArchive(side.label, "no local header where the central directory says",
                         f"member {first.name!r} at byte {candidates[0] + first.offset}")


def _check_overlaps(entries: list[Entry], base: int, size: int, side: Side) -> None:
    """Members whose bytes overlap (the layout of a zip bomb that reuses one compressed
    stream for many members, which would cost quadratic reading) or run past the file's
    end. Each member spans at least its fixed local header and its stored bytes."""
    spans = sorted(((e.offset, e.offset + LOCAL.size + e.compressed_size, e) for e in entries),
                   key=lambda span: span[:2])
    for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
        if end > start:
            raise CorruptArchive(side.label, f"members {first.name!r} and {second.name!r} overlap (a zip bomb's "
                                 "layout)", f"member {second.name!r} at byte {base + start}")
    if spans and base + max(end for _, end, _ in spans) > size:
        last = max(spans, key=lambda span: span[1])[2]
        raise TruncatedArchive(side.label, "the central directory places member data past the end of the file",
                               f"member {last.name!r} at byte {base + last.offset}")


def _check_sizes(entries: list[Entry], side: Side) -> None:
    """Sizes a method cannot produce: a damaged size field, not a member over the budget.
    Stored data is its own size; deflate expands at most 1032 times (RFC 1951's best case)."""
    for e in entries:
        stored_size = e.compressed_size - (12 if e.flags & 0x01 else 0)
        if e.method == zipfile.ZIP_STORED and e.size != stored_size or \
                e.method == zipfile.ZIP_DEFLATED and e.size > DEFLATE_MAX_RATIO * e.compressed_size + 1024:
            raise CorruptArchive(side.label, f"{METHODS[e.method]} data of {e.compressed_size} bytes cannot hold "
                                 f"the {e.size} bytes the directory declares", f"member {e.name!r}")


def read_directory(side: Side, max_members: int, max_name: int) -> Directory:
    size = side.path.stat().st_size
    with open_regular(side.path, side.label) as f:
        count, cd_size, cd_offset, directory_end, comment = _end_record(f, size, side)
        if count > max_members:
            raise LimitExceeded(f"{side.label}: more than {max_members} members (limit max_members={max_members}; "
                                "raise it with --unpack-limit max_members=N)")
        where_it_ends = directory_end - cd_size  # the usual place: right before the end record
        found = [at for at in (where_it_ends, cd_offset) if count and _signature_at(f, at, b"PK\x01\x02")]
        if count and not found:
            raise CorruptArchive(side.label, "no central directory where the end record says",
                                 f"byte {cd_offset} (or {where_it_ends})")
        at = found[0] if found else where_it_ends
        entries = _entries(f, at, count, cd_size, side, max_name)
        shift = at - cd_offset  # bytes in front of the zip, when the directory is where it must be
        base = _base(f, entries, [shift, 0, at], side)
    _check_overlaps(entries, base, size, side)
    _check_sizes(entries, side)
    first_member = min((e.offset for e in entries), default=0) + base
    where = {"directory_at": at, "directory_size": cd_size, "end_at": directory_end}
    if at < first_member:
        return Directory(tuple(entries), comment, base, DIRECTORY_FIRST, at, **where)
    return Directory(tuple(entries), comment, base, PREFIXED if first_member > 0 else STANDARD, first_member, **where)


def _member_span(f: BinaryIO, entry: Entry, base: int, side: Side) -> tuple[int, int, bytes]:
    """(start, end, local name) of a member: its local header, stored bytes and data descriptor."""
    start = base + entry.offset
    end = data_start(f, entry, base, side) + entry.compressed_size
    f.seek(start + LOCAL.size)
    local_name = f.read(LOCAL.unpack(_local_header(f, start))[10])
    if entry.flags & 0x08:  # a data descriptor follows: optional signature, CRC, then 4- or 8-byte sizes
        f.seek(end)
        end += 4 if f.read(4) == b"PK\x07\x08" else 0
        end += 20 if max(entry.size, entry.compressed_size) >= 0xFFFFFFFF else 12
    return start, end, local_name


def _local_header(f: BinaryIO, at: int) -> bytes:
    f.seek(at)
    return f.read(LOCAL.size)


def outside_members(side: Side, directory: Directory) -> str:
    """What the listing cannot see: bytes that belong to no member, directory or end record
    (a hidden entry, padding), and local headers naming another file than the directory does
    (a streaming reader would see that name). "none", or their count and sha256, to compare.
    A descriptor or layout this reads wrong only ever adds bytes here: it fails closed."""
    size = side.path.stat().st_size
    h, hidden, renamed = hashlib.sha256(), 0, 0
    with open_regular(side.path, side.label) as f:
        spans = [(0, directory.prefix), (directory.directory_at, directory.directory_at + directory.directory_size),
                 (directory.end_at, size)]
        for e in directory.entries:
            start, end, local_name = _member_span(f, e, directory.base, side)
            spans.append((start, end))
            if text(local_name) != e.name:
                renamed += 1
                h.update(b"local name:" + local_name + b"\0")
        at = 0
        for start, end in sorted(spans):
            if start > at:
                hidden += start - at
                f.seek(at)
                for chunk in iter(lambda: f.read(min(CHUNK, start - f.tell())), b""):
                    h.update(chunk)
            at = max(at, end)
    if not hidden and not renamed:
        return "none"
    return f"{hidden} bytes in no member, {renamed} local names unlike the directory's (sha256 {h.hexdigest()})"


def data_start(f: BinaryIO, entry: Entry, base: int, side: Side) -> int:
    """Where the member's stored bytes start, after its local header (checked)."""
    at = base + entry.offset
    f.seek(at)
    header = f.read(LOCAL.size)
    if len(header) != LOCAL.size or header[:4] != b"PK\x03\x04":
        raise CorruptArchive(side.label, "no local header where the central directory says",
                             f"member {entry.name!r} at byte {at}")
    fields = LOCAL.unpack(header)
    return at + LOCAL.size + fields[10] + fields[11]


def stored_chunks(f: BinaryIO, entry: Entry, start: int, side: Side) -> Iterator[bytes]:
    """The member's stored (compressed) bytes, as the directory sizes them."""
    f.seek(start)
    left = entry.compressed_size
    while left:
        chunk = f.read(min(CHUNK, left))
        if not chunk:
            raise TruncatedArchive(side.label, f"the file ends {left} bytes before the member's data ends",
                                   f"member {entry.name!r}, data from byte {start}")
        left -= len(chunk)
        yield chunk


def _decompressor(entry: Entry, side: Side):  # type: ignore[no-untyped-def]
    if entry.flags & 0x01:
        raise UnreadableInput(side.label, "the member is encrypted; its content is not compared",
                              f"member {entry.name!r}")
    makers = {zipfile.ZIP_DEFLATED: lambda: zlib.decompressobj(-zlib.MAX_WBITS), zipfile.ZIP_BZIP2: bz2.BZ2Decompressor,
              zipfile.ZIP_LZMA: zipfile.LZMADecompressor}
    if entry.method == zipfile.ZIP_STORED:
        return None
    if entry.method not in makers:
        raise UnreadableInput(side.label, f"compression method {entry.method} is not supported",
                              f"member {entry.name!r}")
    return makers[entry.method]()


def member_chunks(f: BinaryIO, entry: Entry, base: int, side: Side) -> Iterator[bytes]:
    """The member's content, decompressed and checked against its CRC-32 and size."""
    d, crc, size = _decompressor(entry, side), 0, 0
    place = f"member {entry.name!r}"
    try:
        for chunk in stored_chunks(f, entry, data_start(f, entry, base, side), side):
            data = d.decompress(chunk) if d is not None else chunk
            crc, size = zlib.crc32(data, crc), size + len(data)
            yield data
    except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:  # bz2 says OSError("Invalid data stream")
        raise CorruptArchive(side.label, f"{METHODS.get(entry.method, entry.method)} data cannot be read ({exc})",
                             place) from None
    if d is not None and not getattr(d, "eof", True):
        raise CorruptArchive(side.label, "the compressed data ends before its end-of-stream marker", place)
    if crc != entry.crc or size != entry.size:
        raise CorruptArchive(side.label, f"the content does not match its CRC-32 and size in the directory "
                             f"({crc:08x}, {size} bytes; the directory says {entry.crc:08x}, {entry.size} bytes)",
                             place)


def read_prefix(path: Path, directory: Directory, dest: Path) -> None:
    with open_regular(path) as f, open(dest, "wb") as out:
        left = directory.prefix
        while left and (chunk := f.read(min(CHUNK, left))):
            out.write(chunk)
            left -= len(chunk)
