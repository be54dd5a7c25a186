"""zip, wheel and jar: members, order, timestamps, extra fields, compression, comments.

Listing reads only the central directory and hashes each member's stored (compressed)
bytes with its method: equal stored bytes decompress to equal content, so nothing is
inflated unless two members' stored bytes differ. Those are then extracted, within the
unpack budget, and compared as files (which finds the content equal when only the
compression level differs).
"""

from __future__ import annotations

import hashlib
import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, TruncatedArchive, UnreadableInput
from verifier.compare.members import Member, compare_members, list_both
from verifier.digests import CHUNK
from verifier.errors import LimitExceeded

COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated",
               zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}


def _meta(info: zipfile.ZipInfo) -> dict[str, object]:
    return {
        "date_time": "%04d-%02d-%02d %02d:%02d:%02d" % info.date_time,
        "compression": COMPRESSION.get(info.compress_type, str(info.compress_type)),
        "external_attr": oct(info.external_attr >> 16) if info.external_attr >> 16 else hex(info.external_attr),
        "create_system": info.create_system, "extra": info.extra.hex(),
        "comment": info.comment.decode("utf-8", "replace"), "compressed_size": info.compress_size,
    }


def _open(side: Side) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(side.path)
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as exc:
        raise CorruptArchive(side.label, f"not a readable zip ({exc})", "central directory") from None


LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, skipped fields, name and extra lengths


def _stored_digest(f: BinaryIO, info: zipfile.ZipInfo, side: Side) -> str:
    """sha256 of the member's method, encryption flag and stored bytes, read in place."""
    f.seek(info.header_offset)
    header = f.read(LOCAL_HEADER.size)
    if len(header) != LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise CorruptArchive(side.label, "no local header where the central directory says",
                             f"member {info.filename!r} at byte {info.header_offset}")
    _, name_length, extra_length = LOCAL_HEADER.unpack(header)
    f.seek(name_length + extra_length, io.SEEK_CUR)
    h = hashlib.sha256(struct.pack("<HH", info.compress_type, info.flag_bits & 1))
    left = info.compress_size
    while left:
        chunk = f.read(min(CHUNK, left))
        if not chunk:
            raise TruncatedArchive(side.label, f"the file ends {left} bytes before the member's end",
                                   f"member {info.filename!r}")
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, side: Side, budget: list[int]) -> None:
    with zf.open(info) as f, open(dest, "wb") as out:
        while chunk := f.read(CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise LimitExceeded(f"{side.label}: expands past the unpack budget")
            out.write(chunk)


@dataclass(frozen=True)
class ZipComparator:
    name: str = "zip"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")

    def _list(self, side: Side, ctx: CompareContext) -> list[Member]:
        with _open(side) as zf, open(side.path, "rb") as raw:
            infos = zf.infolist()
            if len(infos) > ctx.settings.unpack.max_members:
                raise LimitExceeded(f"{side.label}: more than {ctx.settings.unpack.max_members} members")
            return [Member(info.filename, None if info.is_dir() else _stored_digest(raw, info, side),
                           info.file_size, _meta(info)) for info in infos]

    def _extract(self, side: Side, names: set[str], ctx: CompareContext) -> dict[str, Path]:
        out: dict[str, Path] = {}
        budget = [ctx.settings.unpack.max_expanded_bytes]
        with _open(side) as zf:
            for info in zf.infolist():
                if info.filename in names and info.filename not in out:
                    out[info.filename] = ctx.new_temp_file()
                    try:
                        _inflate(zf, info, out[info.filename], side, budget)
                    except (NotImplementedError, RuntimeError) as exc:  # a method or encryption zipfile cannot read
                        raise UnreadableInput(side.label, str(exc), f"member {info.filename!r}") from None
                    except EOFError as exc:
                        raise TruncatedArchive(side.label, str(exc) or "the data ends early",
                                               f"member {info.filename!r}") from None
                    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError) as exc:
                        raise CorruptArchive(side.label, str(exc), f"member {info.filename!r}") from None
        return out

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        with _open(a) as za, _open(b) as zb:
            comment = Difference.field("archive comment", za.comment.decode("utf-8", "replace"),
                                       zb.comment.decode("utf-8", "replace"), kind="header")
        members = compare_members(a, b, *list_both(self._list, a, b, ctx), ctx, self._extract)
        return Difference.from_details(a.label, b.label, [comment, members])
