"""Compressed streams: gzip (header fields parsed here), xz, zstd and bzip2 (via libarchive's
raw reader). Both sides are decompressed to synthetic temp files under a ratio budget,
then their contents are compared one level deeper."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import libarchive

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.members import both
from verifier.digests import CHUNK
from verifier.errors import InputError, LimitExceeded

GZIP_OS = {0: "FAT", 3: "Unix", 7: "Macintosh", 10: "NTFS", 11: "NTFS", 255: "unknown"}


def _budget(side: Side, ctx: CompareContext) -> int:
    limits = ctx.settings.unpack
    return min(limits.max_expanded_bytes, max(side.path.stat().st_size, 1 << 20) * limits.max_ratio)


def gzip_header(path: Path) -> dict[str, object]:
    with open(path, "rb") as f:
        fixed = f.read(10)
        if len(fixed) < 10 or fixed[:2] != b"\x1f\x8b":
            raise InputError(f"{path.name}: not a gzip stream")
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


def _gunzip(side: Side, dest: Path, ctx: CompareContext) -> None:
    budget, total = _budget(side, ctx), 0
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(side.path, "rb") as f, open(dest, "wb") as out:
        while chunk := f.read(CHUNK):
            data = d.decompress(chunk, CHUNK * 4)
            while True:
                total += len(data)
                if total > budget:
                    raise LimitExceeded(f"{side.label}: decompresses past {budget} bytes (UnpackLimits.max_ratio)")
                out.write(data)
                if not d.unconsumed_tail:
                    break
                data = d.decompress(d.unconsumed_tail, CHUNK * 4)
            if d.eof:
                break
    if not d.eof:
        raise InputError(f"{side.label}: truncated gzip stream")


def _raw(side: Side, dest: Path, filter_name: str, ctx: CompareContext) -> None:
    budget, total = _budget(side, ctx), 0
    with libarchive.file_reader(str(side.path), format_name="raw", filter_name=filter_name) as archive, \
            open(dest, "wb") as out:
        for entry in archive:
            for block in entry.get_blocks():
                total += len(block)
                if total > budget:
                    raise LimitExceeded(f"{side.label}: decompresses past {budget} bytes (UnpackLimits.max_ratio)")
                out.write(block)


@dataclass(frozen=True)
class CompressedStream:
    name: str
    magic: bytes
    filter_name: str

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(self.magic)

    def _decompress(self, side: Side, ctx: CompareContext) -> Side:
        dest = ctx.new_temp_file()
        if self.filter_name == "gzip":
            _gunzip(side, dest, ctx)
        else:
            _raw(side, dest, self.filter_name, ctx)
        return Side(f"{side.label}::(decompressed)", dest)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        details: list[Difference | None] = []
        if self.filter_name == "gzip":
            ha, hb = gzip_header(a.path), gzip_header(b.path)
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
