"""Comparing containers of members (tar, cpio, ar, zip): listings, metadata, order, content.

A format lists its members as ``Member`` records (metadata as plain data plus a content
digest), computed by streaming. Members pair by name, then removed/added pairs with the
same digest are reported as renames. Only members whose content digests differ are
extracted (to synthetic temp paths) and compared recursively.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.printable import name_text, one_line

MAX_LISTED = 50


@dataclass(frozen=True)
class Member:
    name: str  # the name's bytes as a lossless str (formats.reading.text); labels use printable.name_text
    sha256: str | None  # None for non-regular members
    size: int
    meta: dict[str, object] = field(default_factory=dict)


Extract = Callable[[Side, set[str], CompareContext], dict[str, Path]]
Lister = Callable[[Side, CompareContext], list[Member]]
LISTING_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="list")


def list_both(lister: Lister, a: Side, b: Side, ctx: CompareContext) -> tuple[list[Member], list[Member]]:
    """List both sides at once: decompression and hashing release the GIL."""
    return both(lister, a, b, ctx)


def both(work: Callable, a: Side, b: Side, ctx: CompareContext):  # type: ignore[no-untyped-def]
    """``work`` on both sides at once (decompression and hashing release the GIL). The left
    side is always waited for, even when the right one fails: it may still be writing into
    the comparison's temp dir, which the caller removes when the error reaches it. On an
    interrupt (SIGTERM, Ctrl-C) ``ctx.stop`` tells the left side to stop at its next block,
    so the wait is short (an interrupt ends the whole comparison)."""
    left = LISTING_POOL.submit(work, a, ctx)
    try:
        right = work(b, ctx)
    except KeyboardInterrupt:
        ctx.stop.set()
        raise
    finally:
        _join(left, ctx)
    return left.result(), right


def _join(future: Future, ctx: CompareContext) -> None:
    try:
        wait([future])
    except KeyboardInterrupt:  # interrupted while waiting: stop the worker, then wait for it
        ctx.stop.set()
        wait([future])
        raise


def compare_members(a: Side, b: Side, left: Sequence[Member], right: Sequence[Member], ctx: CompareContext,
                    extract: Extract, *, ordered: bool = True) -> Difference | None:
    ma, mb = {m.name: m for m in left}, {m.name: m for m in right}
    details: list[Difference | None] = [_listing(a, b, left, right, ma, mb)]
    if ordered:
        details.append(_order(a, b, left, right, mb))
    common = [m.name for m in left if m.name in mb]
    details += [_metadata(a, b, ma[n], mb[n]) for n in common]
    differing = {n for n in common if ma[n].sha256 != mb[n].sha256 or ma[n].size != mb[n].size}
    differing = {n for n in differing if ma[n].sha256 is not None and mb[n].sha256 is not None}
    if differing:
        paths_a, paths_b = extract(a, differing, ctx), extract(b, differing, ctx)
        position = {m.name: i for i, m in enumerate(left)}
        for name in sorted(differing, key=position.__getitem__):
            sa = Side(f"{a.label}::{name_text(name)}", paths_a[name])
            sb = Side(f"{b.label}::{name_text(name)}", paths_b[name])
            details.append(ctx.compare_files(sa, sb))
    return Difference.from_details(a.label, b.label, details)


def _listing(a: Side, b: Side, left: Sequence[Member], right: Sequence[Member],
             ma: dict[str, Member], mb: dict[str, Member]) -> Difference | None:
    only_a = [m for m in left if m.name not in mb]
    only_b = [m for m in right if m.name not in ma]
    if not only_a and not only_b:
        return None
    renames = _renames(only_a, only_b)
    lines_a = [_line(m) for m in only_a if m.name not in renames][:MAX_LISTED]
    lines_b = [_line(m) for m in only_b if m.name not in renames.values()][:MAX_LISTED]
    comments = [f"renamed: {name_text(old)} -> {name_text(new)} (same content)" for old, new in list(renames.items())[:MAX_LISTED]]
    if len(only_a) + len(only_b) > 2 * MAX_LISTED:
        comments.append(f"{len(only_a)} member(s) only in the first, {len(only_b)} only in the second; lists truncated")
    diff = "".join(f"-{line}\n" for line in lines_a) + "".join(f"+{line}\n" for line in lines_b)
    return Difference(f"{a.label} (members)", f"{b.label} (members)", tuple(comments), diff or None, kind="member")


def _renames(only_a: list[Member], only_b: list[Member]) -> dict[str, str]:
    by_digest = {m.sha256: m.name for m in only_b if m.sha256}
    return {m.name: by_digest[m.sha256] for m in only_a if m.sha256 and m.sha256 in by_digest}


def _line(m: Member) -> str:
    return f"{one_line(m.name)} ({m.size} bytes)"


def _order(a: Side, b: Side, left: Sequence[Member], right: Sequence[Member], mb: dict[str, Member]) -> Difference | None:
    common_a = [m.name for m in left if m.name in mb]
    names_a = set(common_a)
    common_b = [m.name for m in right if m.name in names_a]
    if common_a == common_b:
        return None
    first = next(i for i, (x, y) in enumerate(zip(common_a, common_b)) if x != y)
    window_a = "\n".join(map(one_line, common_a[first:first + 10]))
    window_b = "\n".join(map(one_line, common_b[first:first + 10]))
    return Difference(f"{a.label} (member order)", f"{b.label} (member order)",
                      (f"the same members in a different order, first at position {first}",),
                      f"-{window_a.replace(chr(10), chr(10) + '-')}\n+{window_b.replace(chr(10), chr(10) + '+')}\n",
                      kind="order")


def _metadata(a: Side, b: Side, x: Member, y: Member) -> Difference | None:
    keys = sorted(set(x.meta) | set(y.meta))
    fields = [Difference.field(k, x.meta.get(k), y.meta.get(k), kind="metadata") for k in keys]
    if x.sha256 is None and y.sha256 is None:
        fields.append(Difference.field("size", x.size, y.size, kind="metadata"))
    return Difference.from_details(f"{a.label}::{name_text(x.name)} (metadata)",
                                   f"{b.label}::{name_text(y.name)} (metadata)",
                                   fields, kind="metadata")
