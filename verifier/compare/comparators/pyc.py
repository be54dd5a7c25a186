"""Compiled Python (.pyc), recognised by its header (a 2-byte magic number then CR LF), not
its name: the header's fields (magic, invalidation flags, source mtime and size, or source
hash) compared one by one, then the marshalled code as bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from verifier.compare.comparators.binary import BinaryComparator
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.regular import open_regular
from verifier.formats import sniff

HEADER = struct.Struct("<HHI8s")  # magic, b"\r\n", flags, then source mtime+size or the source hash
FLAGS = {0: "timestamp", 3: "checked hash", 1: "unchecked hash"}  # PEP 552: bit 0 hash-based, bit 1 check
BLOCK = 1 << 20


def _header(path: Path) -> dict[str, object]:
    with open_regular(path) as f:
        magic, _, flags, rest = HEADER.unpack(f.read(HEADER.size))
    fields: dict[str, object] = {"pyc magic": magic, "pyc flags": f"{flags} ({FLAGS[flags]})"}
    if flags == 0:
        mtime, size = struct.unpack("<II", rest)
        fields.update({"pyc source mtime": mtime, "pyc source size": size})
    else:
        fields["pyc source hash"] = rest.hex()
    return fields


def _same_code(a: Side, b: Side) -> bool:
    with open_regular(a.path, a.label) as fa, open_regular(b.path, b.label) as fb:
        fa.seek(HEADER.size)
        fb.seek(HEADER.size)
        while True:
            x, y = fa.read(BLOCK), fb.read(BLOCK)
            if x != y:
                return False
            if not x:
                return True


@dataclass(frozen=True)
class PycComparator:
    name: str = "pyc"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_pyc(head)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        ha, hb = _header(a.path), _header(b.path)
        fields = [Difference.field(k, ha.get(k), hb.get(k), kind="header") for k in dict.fromkeys([*ha, *hb])]
        code = None
        if not _same_code(a, b):
            code = BinaryComparator().compare(a, b, ctx)
            code = code and Difference(code.source1, code.source2, ("the marshalled code differs", *code.comments),
                                       code.unified_diff, kind="bytes")
        return Difference.from_details(a.label, b.label, [*fields, code])
