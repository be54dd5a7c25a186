"""Comparing containers of members (tar, cpio, ar, zip): listings, metadata, order, content.

A format lists its members as ``Member`` records (metadata as plain data plus a content
digest), computed by streaming. Members pair by name and occurrence (the second entry
named ``a.txt`` with the other side's second ``a.txt``), so an archive holding one name
twice has every entry compared, and a name occurring more than once is itself reported;
then removed/added pairs with the same digest are reported as renames. Only members whose content digests differ are
extracted (to synthetic temp paths) and compared recursively.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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


Key = tuple[str, int]  # a member's name and its occurrence among the entries of that name (0 first)
Extract = Callable[[Side, set[Key], CompareContext], dict[Key, Path]]
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


def keyed(names: Iterable[str]) -> list[Key]:
    """Each name with its occurrence index, in order: what extractors and listings pair by."""
    seen: Counter[str] = Counter()
    keys = []
    for name in names:
        keys.append((name, seen[name]))
        seen[name] += 1
    return keys


def _by_key(members: Sequence[Member]) -> dict[Key, Member]:
    return dict(zip(keyed(m.name for m in members), members))


def _label(key: Key) -> str:
    name, occurrence = key
    return name_text(name) + (f" (entry {occurrence + 1} of that name)" if occurrence else "")


def compare_members(a: Side, b: Side, left: Sequence[Member], right: Sequence[Member], ctx: CompareContext,
                    extract: Extract, *, ordered: bool = True) -> Difference | None:
    ma, mb = _by_key(left), _by_key(right)
    details: list[Difference | None] = [_duplicates(a, b, left, right), _listing(a, b, ma, mb)]
    if ordered:
        details.append(_order(a, b, ma, mb))
    common = [k for k in ma if k in mb]
    details += [_metadata(a, b, k, ma[k], mb[k]) for k in common]
    differing = {k for k in common if ma[k].sha256 != mb[k].sha256 or ma[k].size != mb[k].size}
    differing = {k for k in differing if ma[k].sha256 is not None and mb[k].sha256 is not None}
    if differing:
        paths_a, paths_b = extract(a, differing, ctx), extract(b, differing, ctx)
        for key in [k for k in ma if k in differing]:
            sa = Side(f"{a.label}::{_label(key)}", paths_a[key])
            sb = Side(f"{b.label}::{_label(key)}", paths_b[key])
            details.append(ctx.compare_files(sa, sb))
    return Difference.from_details(a.label, b.label, details)


def _duplicates(a: Side, b: Side, left: Sequence[Member], right: Sequence[Member]) -> Difference | None:
    """A name held by more than one entry, on either side: extracting such an archive keeps
    only one of them, so it is reported (and no normaliser removes it), even when both sides
    hold the same entries."""
    ca, cb = Counter(m.name for m in left), Counter(m.name for m in right)
    names = [n for n in dict.fromkeys([*ca, *cb]) if ca[n] > 1 or cb[n] > 1]
    if not names:
        return None
    comments = [f"member name '{name_text(n)}' occurs {ca[n]} time(s) in the first and {cb[n]} in the second: "
                "entries of one name are paired in order" for n in names[:MAX_LISTED]]
    if len(names) > MAX_LISTED:
        comments.append(f"{len(names)} duplicated member names; list truncated")
    return Difference(f"{a.label} (duplicate member names)", f"{b.label} (duplicate member names)",
                      tuple(comments), kind="member")


def _listing(a: Side, b: Side, ma: dict[Key, Member], mb: dict[Key, Member]) -> Difference | None:
    only_a = [k for k in ma if k not in mb]
    only_b = [k for k in mb if k not in ma]
    if not only_a and not only_b:
        return None
    renames = _renames([(k, ma[k]) for k in only_a], [(k, mb[k]) for k in only_b])
    lines_a = [_line(k, ma[k]) for k in only_a if k not in renames][:MAX_LISTED]
    lines_b = [_line(k, mb[k]) for k in only_b if k not in renames.values()][:MAX_LISTED]
    comments = [f"renamed: {_label(old)} -> {_label(new)} (same content)" for old, new in list(renames.items())[:MAX_LISTED]]
    if len(only_a) + len(only_b) > 2 * MAX_LISTED:
        comments.append(f"{len(only_a)} member(s) only in the first, {len(only_b)} only in the second; lists truncated")
    diff = "".join(f"-{line}\n" for line in lines_a) + "".join(f"+{line}\n" for line in lines_b)
    return Difference(f"{a.label} (members)", f"{b.label} (members)", tuple(comments), diff or None, kind="member")


def _renames(only_a: list[tuple[Key, Member]], only_b: list[tuple[Key, Member]]) -> dict[Key, Key]:
    by_digest = {m.sha256: k for k, m in only_b if m.sha256}
    return {k: by_digest[m.sha256] for k, m in only_a if m.sha256 and m.sha256 in by_digest}


def _line(key: Key, m: Member) -> str:
    name, occurrence = key
    return f"{one_line(name)} ({m.size} bytes" + (f", entry {occurrence + 1} of that name)" if occurrence else ")")


def _order(a: Side, b: Side, ma: dict[Key, Member], mb: dict[Key, Member]) -> Difference | None:
    common_a = [k for k in ma if k in mb]
    common_b = [k for k in mb if k in ma]
    if common_a == common_b:
        return None
    first = next(i for i, (x, y) in enumerate(zip(common_a, common_b)) if x != y)
    window_a = "\n".join(one_line(k[0]) for k in common_a[first:first + 10])
    window_b = "\n".join(one_line(k[0]) for k in common_b[first:first + 10])
    return Difference(f"{a.label} (member order)", f"{b.label} (member order)",
                      (f"the same members in a different order, first at position {first}",),
                      f"-{window_a.replace(chr(10), chr(10) + '-')}\n+{window_b.replace(chr(10), chr(10) + '+')}\n",
                      kind="order")


def _metadata(a: Side, b: Side, key: Key, x: Member, y: Member) -> Difference | None:
    keys = sorted(set(x.meta) | set(y.meta))
    fields = [Difference.field(k, x.meta.get(k), y.meta.get(k), kind="metadata") for k in keys]
    if x.sha256 is None and y.sha256 is None:
        fields.append(Difference.field("size", x.size, y.size, kind="metadata"))
    return Difference.from_details(f"{a.label}::{_label(key)} (metadata)",
                                   f"{b.label}::{_label(key)} (metadata)",
                                   fields, kind="metadata")
