"""The engine: identity first, then the first comparator that recognises both sides.

Identity is decided by size, then a byte-for-byte comparison of both files read in
lockstep, which stops at the first difference (no hash collisions to argue about, and a
memcmp is cheaper than two sha256 computations). Only differing pairs are opened.

A comparator that cannot read a side (``UnreadableInput``: corrupt, truncated) or misses
a tool leaves a comment and the pair is compared byte by byte: a difference is never
dropped. A budget hit (``LimitExceeded``) ends the comparison with its own message.
An unreadable side also leaves a node of kind
``unreadable`` saying in words which file is truncated or corrupt, and where; two sides of
different formats leave a node of kind ``format``. Any other exception from a comparator
is a bug in verifier and propagates (``verifier compare`` exits 70).
"""

from __future__ import annotations

import os
from pathlib import Path

from verifier.compare.comparators import FALLBACK, REGISTRY
from verifier.compare.difference import Difference
from verifier.compare.interface import (COMPARATOR_ERRORS, HEAD_BYTES, CompareContext, Comparator, Side,
                                        UnreadableInput)
from verifier.compare.regular import open_regular
from verifier.formats import sniff

SAME_BLOCK = 4 << 20
PLAIN_NAMES = {"diffoscope": "a format without a native comparator", "text": "text",
               "binary": "data of no recognised format"}


def same_content(a: Path, b: Path, la: str | None = None, lb: str | None = None) -> bool:
    """Whether two regular files hold the same bytes (``UnreadableInput`` for anything else)."""
    with open_regular(a, la) as fa, open_regular(b, lb) as fb:
        if os.fstat(fa.fileno()).st_size != os.fstat(fb.fileno()).st_size:
            return False
        x, y = bytearray(SAME_BLOCK), bytearray(SAME_BLOCK)  # reused: no allocation per block
        while True:
            nx, ny = fa.readinto(x), fb.readinto(y)
            if nx != ny:
                return False
            if nx < SAME_BLOCK:
                return x[:nx] == y[:ny]
            if x != y:
                return False


def _head(path: Path) -> bytes:
    with open_regular(path) as f:
        return f.read(HEAD_BYTES)


def _format_of(head: bytes, side: Side) -> str:
    found = next(c.name for c in REGISTRY if c.recognizes(head, side))
    return PLAIN_NAMES.get(found, found)


def _claimed(side: Side) -> str | None:
    """The format a side's name (its last member name, inside containers) says it is."""
    return sniff.claimed(side.label.rsplit("::", 1)[-1])


def _format_node(a: Side, b: Side) -> Difference:
    """The words for a pair whose sides are of different formats, naming the odd one out."""
    fa, fb = _format_of(_head(a.path), a), _format_of(_head(b.path), b)
    said = f"formats differ: {a.label} is {fa}, {b.label} is {fb}"
    for odd, other, actual, expected in ((b, a, fb, fa), (a, b, fa, fb)):
        if _claimed(odd) == expected != actual:
            said = (f"{odd.label} is not {expected} although its name says so (it is {actual}); "
                    f"{other.label} is {expected}")
            break
    return Difference(a.label, b.label, (f"{said}; compared as bytes",), kind="format")


def choose(a: Side, b: Side) -> tuple[Comparator, Difference | None]:
    ha, hb = _head(a.path), _head(b.path)
    for comparator in REGISTRY:
        ra, rb = comparator.recognizes(ha, a), comparator.recognizes(hb, b)
        if ra and rb:
            return comparator, None
        if ra != rb and comparator is not FALLBACK and comparator.name != "text":
            return FALLBACK, _format_node(a, b)
    return FALLBACK, None


def _unreadable_node(a: Side, b: Side, exc: UnreadableInput) -> Difference:
    return Difference(a.label, b.label, (f"{exc.message}; compared as bytes",), kind="unreadable")


def compare_sides(a: Side, b: Side, ctx: CompareContext) -> Difference | None:
    try:
        return _compare(a, b, ctx)
    except UnreadableInput as exc:  # not a regular file (swapped since it was listed): never read
        ctx.degrade(f"{exc.message}; not compared")
        return Difference(a.label, b.label, (f"{exc.message}; not compared",), kind="unreadable")


def _compare(a: Side, b: Side, ctx: CompareContext) -> Difference | None:
    if same_content(a.path, b.path, a.label, b.label):
        return None
    if ctx.depth > ctx.settings.unpack.max_depth:
        note = ctx.degrade(f"{a.label}: nesting deeper than {ctx.settings.unpack.max_depth} levels; compared as bytes")
        return _bytes(a, b, ctx, note)
    comparator, mismatch = choose(a, b)
    if comparator is FALLBACK:
        return _bytes(a, b, ctx, None, mismatch)
    try:
        found = comparator.compare(a, b, ctx)
    except UnreadableInput as exc:
        ctx.degrade(f"{exc.message}; compared as bytes")
        return _bytes(a, b, ctx, None, _unreadable_node(a, b, exc))
    except COMPARATOR_ERRORS as exc:
        note = ctx.degrade(f"{a.label}: {comparator.name} comparison failed ({exc}); compared as bytes")
        return _bytes(a, b, ctx, note)
    if found is None:
        note = f"differs, unexplained by the {comparator.name} comparator; compared as bytes"
        return _bytes(a, b, ctx, ctx.degrade(f"{a.label}: {note}"))
    return found


def _bytes(a: Side, b: Side, ctx: CompareContext, note: str | None, why: Difference | None = None) -> Difference:
    found = FALLBACK.compare(a, b, ctx)
    comments = ((note,) if note else ()) + (found.comments if found else ())
    details = (why,) if why else ()
    if found is None:
        return Difference(a.label, b.label, comments or ("differs, unexplained",), details=details, kind="bytes")
    return Difference(a.label, b.label, comments, found.unified_diff, details, kind="bytes")
