"""The engine: identity first, then the first comparator that recognises both sides.

Identity is decided by size, then a byte-for-byte comparison of both files read in
lockstep, which stops at the first difference (no hash collisions to argue about, and a
memcmp is cheaper than two sha256 computations). Only differing pairs are opened. A comparator that fails (corrupt input, budget hit) or finds nothing
leaves a comment, and the pair is compared byte by byte: a difference is never dropped.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import libarchive.exception

from verifier.compare.comparators import FALLBACK, REGISTRY
from verifier.compare.difference import Difference
from verifier.compare.interface import HEAD_BYTES, CompareContext, Comparator, Side
from verifier.errors import VerifierError

SAME_BLOCK = 4 << 20
COMPARATOR_ERRORS = (VerifierError, OSError, EOFError, ValueError, zlib.error, libarchive.exception.ArchiveError,
                     UnicodeDecodeError, KeyError, IndexError)


def same_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    x, y = bytearray(SAME_BLOCK), bytearray(SAME_BLOCK)  # reused: no allocation per block
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            nx, ny = fa.readinto(x), fb.readinto(y)
            if nx != ny:
                return False
            if nx < SAME_BLOCK:
                return x[:nx] == y[:ny]
            if x != y:
                return False


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


def choose(a: Side, b: Side) -> tuple[Comparator, str | None]:
    ha, hb = _head(a.path), _head(b.path)
    for comparator in REGISTRY:
        ra, rb = comparator.recognizes(ha, a), comparator.recognizes(hb, b)
        if ra and rb:
            return comparator, None
        if ra != rb and comparator is not FALLBACK and comparator.name != "text":
            return FALLBACK, f"formats differ: only one side is {comparator.name}"
    return FALLBACK, None


def compare_sides(a: Side, b: Side, ctx: CompareContext) -> Difference | None:
    if same_content(a.path, b.path):
        return None
    if ctx.depth > ctx.settings.unpack.max_depth:
        note = ctx.degrade(f"{a.label}: nesting deeper than {ctx.settings.unpack.max_depth} levels; compared as bytes")
        return _bytes(a, b, ctx, note)
    comparator, note = choose(a, b)
    if comparator is FALLBACK:
        return _bytes(a, b, ctx, note)
    try:
        found = comparator.compare(a, b, ctx)
    except COMPARATOR_ERRORS as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        note = ctx.degrade(f"{a.label}: {comparator.name} comparison failed ({reason}); compared as bytes")
        return _bytes(a, b, ctx, note)
    if found is None:
        note = f"differs, unexplained by the {comparator.name} comparator; compared as bytes"
        return _bytes(a, b, ctx, ctx.degrade(f"{a.label}: {note}"))
    return found


def _bytes(a: Side, b: Side, ctx: CompareContext, note: str | None) -> Difference:
    found = FALLBACK.compare(a, b, ctx)
    comments = ((note,) if note else ()) + (found.comments if found else ())
    if found is None:
        return Difference(a.label, b.label, comments or ("differs, unexplained",), kind="bytes")
    return Difference(a.label, b.label, comments, found.unified_diff, kind="bytes")
