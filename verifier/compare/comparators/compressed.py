"""Compressed streams: gzip (header fields parsed here), xz, zstd and bzip2 (via libarchive's
raw reader). Both sides are decompressed to synthetic temp files under a ratio budget,
then their contents are compared one level deeper. Concatenated gzip members are read as
one stream (RFC 1952); a bad CRC, a truncated stream or trailing bytes that are not gzip
are a CorruptArchive/TruncatedArchive naming the offset."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import libarchive.exception

from verifier.compare.comparators.libarchive_errors import translate
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, TruncatedArchive
from verifier.compare.regular import open_regular
from verifier.compare.members import both
from verifier.digests import CHUNK
from verifier.formats.reading import Budget, blocks, open_archive

GZIP_OS = {0: "FAT", 3: "Unix", 7: "Macintosh", 10: "NTFS", 11: "NTFS", 255: "unknown"}


def gzip_header(side: Side) -> dict[str, object]:
    try:
        return _gzip_header(side.path)
    except struct.error:
        raise TruncatedArchive(side.label, "the file ends inside the gzip header", "gzip header") from None


def _gzip_header(path: Path) -> dict[str, object]:
    with open_regular(path) as f:
        fixed = f.read(10)
        method, flags, mtime, xfl, os_byte = struct.unpack("<BBIBB", fixed[2:])
        header: dict[str, object] = {"method": method, "flags": flags, "mtime": mtime, "xfl": xfl,
                                     "os": f"{os_byte} ({GZIP_OS.get(os_byte, '?')})"}
        if flags & 0x04:
            (xlen,) = struct.unpack("<H", f.read(2))
            header["extra"] = f.read(xlen).hex()
        if flags & 0x08:
            header["name"] = _zero_terminated(f)
        if flags & 0x10:
            header["comment"] = _zero_terminated(f)
    return header


def _zero_terminated(f) -> str:
    data = bytearray()
    while (c := f.read(1)) not in (b"", b"\x00") and len(data) < 4096:
        data += c
    return data.decode("latin-1")


class _Gunzip:
    """A gzip file (one or more concatenated members) inflated into ``out`` under ``budget``;
    zlib's errors become CorruptArchive/TruncatedArchive naming the offset."""

    def __init__(self, side: Side, out: BinaryIO, budget: Budget) -> None:
        self.side, self.out, self.budget = side, out, budget
        self.read = self.written = 0  # compressed bytes taken from the file, decompressed bytes written
        self.member_start = 0

    def _emit(self, data: bytes) -> None:
        self.written += len(data)
        self.budget.grow(len(data))
        self.out.write(data)

    def _where(self) -> str:
        return f"gzip member at byte {self.member_start}, after {self.written} decompressed bytes"

    def _feed(self, d, chunk: bytes) -> None:  # type: ignore[no-untyped-def]
        try:
            data = d.decompress(chunk, CHUNK * 4)
            while True:
                self._emit(data)
                if not d.unconsumed_tail:
                    return
                data = d.decompress(d.unconsumed_tail, CHUNK * 4)
        except zlib.error as exc:
            reason = ("the CRC-32 or length in the gzip trailer does not match the data" if "incorrect data check"
                      in str(exc) or "incorrect length check" in str(exc) else f"invalid deflate data ({exc})")
            raise CorruptArchive(self.side.label, reason, f"{self._where()}, in bytes {self.read - len(chunk)}"
                                 f"-{self.read}") from None

    def run(self, f: BinaryIO) -> None:
        pending = b""
        while True:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            if pending:
                self._feed(d, pending)
            while not d.eof and (chunk := f.read(CHUNK)):
                self.read += len(chunk)
                self._feed(d, chunk)
            if not d.eof:
                raise TruncatedArchive(self.side.label, f"the gzip stream ends at byte {self.read} before its "
                                       "end-of-stream marker", self._where())
            pending = d.unused_data or f.read(CHUNK)
            self.read += 0 if d.unused_data else len(pending)
            if not pending:
                return
            self.member_start = self.read - len(pending)
            if not pending.startswith(b"\x1f\x8b"):
                trailing = len(pending) + len(f.read())
                raise CorruptArchive(self.side.label, f"{trailing} bytes that are not gzip follow the stream",
                                     f"from byte {self.member_start}")


def _gunzip(side: Side, dest: Path, ctx: CompareContext) -> None:
    with open_regular(side.path, side.label) as f, open(dest, "wb") as out:
        _Gunzip(side, out, Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)).run(f)


def _raw(side: Side, dest: Path, filter_name: str, ctx: CompareContext) -> None:
    budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
    try:
        with open_archive(side.path, "raw", filter_name) as archive, open(dest, "wb") as out:
            for entry in archive:
                for block in blocks(entry, budget):
                    out.write(block)
    except libarchive.exception.ArchiveError as exc:
        raise translate(side, exc, f"{filter_name} stream, after {budget.bytes} decompressed bytes") from None


def decompress(side: Side, filter_name: str, ctx: CompareContext) -> Side:
    """``side``'s stream decompressed to a synthetic temp file, within the unpack budget."""
    dest = ctx.new_temp_file()
    if filter_name == "gzip":
        _gunzip(side, dest, ctx)
    else:
        _raw(side, dest, filter_name, ctx)
    return Side(f"{side.label}::(decompressed)", dest)


@dataclass(frozen=True)
class CompressedStream:
    name: str
    magic: bytes
    filter_name: str

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(self.magic)

    def _decompress(self, side: Side, ctx: CompareContext) -> Side:
        return decompress(side, self.filter_name, ctx)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        details: list[Difference | None] = []
        if self.filter_name == "gzip":
            ha, hb = gzip_header(a), gzip_header(b)
            fields = [Difference.field(k, ha.get(k), hb.get(k), kind="header") for k in sorted(set(ha) | set(hb))]
            details.append(Difference.from_details(f"{a.label} (gzip header)", f"{b.label} (gzip header)", fields,
                                                   kind="header"))
        left, right = both(self._decompress, a, b, ctx)
        details.append(ctx.compare_files(left, right))
        found = Difference.from_details(a.label, b.label, details)
        if found is None:
            return Difference(a.label, b.label, (f"the decompressed contents and headers are identical: "
                                                 f"the {self.name} streams differ in how they were compressed "
                                                 "(level, block size or implementation)",), kind="bytes")
        return found
