"""The last resort: a bounded byte comparison naming the differing offsets.

Reads both files in large chunks (constant memory), finds differing ranges with C-speed
slice comparisons, and shows a short hex dump of the first ones. A 1 GiB pair that
differs in a few bytes costs two sequential reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.regular import open_regular

BLOCK = 4 << 20
MAX_RANGES = 16
DUMP_BYTES = 32


def _first_difference(x: bytes, y: bytes) -> int:
    """Index of the first differing byte of two equal-length, differing buffers."""
    lo, hi = 0, len(x)
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if x[lo:mid] != y[lo:mid]:
            hi = mid
        else:
            lo = mid
    return next(i for i in range(lo, hi) if x[i] != y[i])


def _ranges_in(x: bytes, y: bytes, base: int, found: list[tuple[int, int]]) -> None:
    pos = 0
    n = min(len(x), len(y))
    while pos < n and len(found) < MAX_RANGES:
        if x[pos:n] == y[pos:n]:
            return
        start = pos + _first_difference(x[pos:n], y[pos:n])
        end = start
        while end < n and x[end] != y[end] and end - start < 4096:
            end += 1
        found.append((base + start, base + end))
        pos = end


def _hex(data: bytes) -> str:
    return data.hex(" ")


@dataclass(frozen=True)
class BinaryComparator:
    name: str = "binary"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return True

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        size_a, size_b = a.path.stat().st_size, b.path.stat().st_size
        ranges: list[tuple[int, int]] = []
        differing_blocks = 0
        with open_regular(a.path, a.label) as fa, open_regular(b.path, b.label) as fb:
            offset = 0
            while True:
                x, y = fa.read(BLOCK), fb.read(BLOCK)
                if not x and not y:
                    break
                if x != y:
                    differing_blocks += 1
                    if len(ranges) < MAX_RANGES:
                        _ranges_in(x, y, offset, ranges)
                offset += max(len(x), len(y))
        comments = []
        if size_a != size_b:
            comments.append(f"sizes differ: {size_a} vs {size_b} bytes")
        if ranges:
            shown = ", ".join(f"0x{s:x}-0x{e:x}" for s, e in ranges)
            more = " (first ranges only)" if len(ranges) >= MAX_RANGES else ""
            comments.append(f"bytes differ at {shown}{more}; {differing_blocks} of the {BLOCK >> 20} MiB blocks differ")
        if not comments:
            return None
        return Difference(a.label, b.label, tuple(comments), self._dump(a, b, ranges), kind="bytes")

    def _dump(self, a: Side, b: Side, ranges: list[tuple[int, int]]) -> str | None:
        lines = []
        with open_regular(a.path, a.label) as fa, open_regular(b.path, b.label) as fb:
            for start, _ in ranges[:4]:
                at = max(0, start - 8)
                fa.seek(at)
                fb.seek(at)
                lines.append(f"-{at:08x}: {_hex(fa.read(DUMP_BYTES))}")
                lines.append(f"+{at:08x}: {_hex(fb.read(DUMP_BYTES))}")
        return "\n".join(lines) + "\n" if lines else None
