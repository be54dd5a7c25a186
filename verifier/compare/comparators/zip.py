"""zip, wheel and jar: members, order, timestamps, extra fields, compression, comments."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.members import Member, compare_members, list_both
from verifier.digests import CHUNK
from verifier.errors import InputError, LimitExceeded

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
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{side.label}: not a readable zip: {exc}") from None


def _digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, side: Side, budget: list[int]) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with zf.open(info) as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise LimitExceeded(f"{side.label}: expands past the unpack budget")
            h.update(chunk)
    return h.hexdigest(), size


@dataclass(frozen=True)
class ZipComparator:
    name: str = "zip"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")

    def _list(self, side: Side, ctx: CompareContext) -> list[Member]:
        budget = [ctx.settings.unpack.max_expanded_bytes]
        with _open(side) as zf:
            infos = zf.infolist()
            if len(infos) > ctx.settings.unpack.max_members:
                raise LimitExceeded(f"{side.label}: more than {ctx.settings.unpack.max_members} members")
            members = []
            for info in infos:
                digest, size = (None, 0) if info.is_dir() else _digest(zf, info, side, budget)
                members.append(Member(info.filename, digest, size, _meta(info)))
            return members

    def _extract(self, side: Side, names: set[str], ctx: CompareContext) -> dict[str, Path]:
        out = {}
        with _open(side) as zf:
            for info in zf.infolist():
                if info.filename in names and info.filename not in out:
                    path = ctx.new_temp_file()
                    with zf.open(info) as f, open(path, "wb") as dest:
                        while chunk := f.read(CHUNK):
                            dest.write(chunk)
                    out[info.filename] = path
        return out

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        with _open(a) as za, _open(b) as zb:
            comment = Difference.field("archive comment", za.comment.decode("utf-8", "replace"),
                                       zb.comment.decode("utf-8", "replace"), kind="header")
        members = compare_members(a, b, *list_both(self._list, a, b, ctx), ctx, self._extract)
        return Difference.from_details(a.label, b.label, [comment, members])
