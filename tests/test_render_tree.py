"""How a difference tree reads (issue 13, item 6): paths once and relative, wrappers folded,
identical member differences grouped with a count, one-value fields as ``old → new`` with
times in ISO 8601 UTC and their difference, hints collected first, diffs side by side."""

from __future__ import annotations

import time

import pytest

from verifier.compare.difference import Difference
from verifier.render.sidebyside import Row, rows
from verifier.render.tree import MAX_MEMBERS, MAX_READ, Node, hints, outline, walk
from verifier.render.values import change, duration, short_digest
from verifier.report.codec import parse_difference


def _member(side: str, name: str, old: int, new: int) -> Difference:
    return Difference(f"{side}/x.tar.gz::(decompressed)::{name} (metadata)",
                      f"rebuilt/x.tar.gz::(decompressed)::{name} (metadata)",
                      details=(Difference.field("mtime", old, new, kind="metadata"),), kind="metadata")


def _tarball(members: int) -> Difference:
    stamps = [_member("official", f"pkg/f{i}", 1700000000, 1700000002) for i in range(members)]
    content = Difference("official/x.tar.gz::(decompressed)::pkg/main.c", "rebuilt/x.tar.gz::(decompressed)::pkg/main.c",
                         unified_diff="@@ -1 +1 @@\n-a\n+b\n", kind="content", hints=("build path embedded",))
    inner = Difference("official/x.tar.gz::(decompressed)", "rebuilt/x.tar.gz::(decompressed)",
                       details=(*stamps, content))
    return Difference("official/x.tar.gz", "rebuilt/x.tar.gz", details=(inner,), kind="archive",
                      hints=("member timestamps differ",))


def _nodes(tree: object) -> list[Node]:
    return [n for n in walk(outline(tree)) if isinstance(n, Node)]


def test_paths_are_shown_once_and_relative_to_the_artifact() -> None:
    labels = [(n.depth, n.view.label) for n in _nodes(_tarball(1))]
    assert labels == [(0, "x.tar.gz"), (1, "pkg/f0 (metadata)"), (2, "mtime"), (1, "pkg/main.c")]
    assert not any("::" in label or "↔" in label for _, label in labels)  # (decompressed) folded away


def test_a_tree_read_back_from_a_report_reads_the_same() -> None:
    tree = _tarball(3)
    assert _nodes(parse_difference(tree.to_json())) == _nodes(tree)


def test_identical_member_differences_are_grouped_with_a_count() -> None:
    nodes = _nodes(_tarball(6))
    group = nodes[1].view
    assert group.label == "6 members (metadata)" and group.count == 6
    assert group.members == tuple(f"pkg/f{i}" for i in range(6))
    assert [n.view.label for n in nodes] == ["x.tar.gz", "6 members (metadata)", "mtime", "pkg/main.c"]
    assert len(_nodes(_tarball(MAX_MEMBERS + 10))[1].view.members) == MAX_MEMBERS  # the count stays exact
    assert _nodes(_tarball(MAX_MEMBERS + 10))[1].view.count == MAX_MEMBERS + 10


def test_fields_with_the_same_change_are_named_together() -> None:
    fields = (Difference.field("gname", "", "root", kind="metadata"), Difference.field("uname", "", "root", kind="metadata"))
    tree = Difference("a", "b", details=fields)
    assert [n.view.label for n in _nodes(tree)][1:] == ["gname, uname"]
    assert _nodes(tree)[1].view.change == "(empty) → root"


def test_times_read_as_iso_utc_with_the_difference() -> None:
    mtime = _nodes(_tarball(1))[2].view
    assert mtime.change == "2023-11-14T22:13:20Z → 2023-11-14T22:13:22Z (+2 s)" and mtime.diff is None
    assert change("date_time", "2023-11-14 22:13:20", "2023-11-14 21:13:20") == \
        "2023-11-14T22:13:20 → 2023-11-14T21:13:20 (-1 h)"
    assert change("size", "1700000000", "1700000002") == "1700000000 → 1700000002"  # not a time field
    assert change("mtime", "soon", "later") == "soon → later"


@pytest.mark.parametrize(("seconds", "shown"), [(0, "+0 s"), (2, "+2 s"), (-60, "-1 min"), (3600, "+1 h"),
                                                (86400 * 36 + 3600 + 5, "+36 d 1 h")])
def test_durations(seconds: int, shown: str) -> None:
    assert duration(seconds) == shown


def test_hints_are_collected_once_with_where_they_were_found() -> None:
    found = hints(outline(_tarball(2)))
    assert [(h.text, h.where) for h in found] == [("member timestamps differ", ""),
                                                  ("build path embedded", "pkg/main.c")]


def test_digests_are_shortened() -> None:
    assert short_digest("ab" * 32) == "abababababab…" and short_digest(None) == ""


def test_side_by_side_pairs_removals_with_the_additions_that_follow() -> None:
    diff = "@@ -1,4 +1,3 @@\n keep\n-old 1\n-old 2\n+new 1\n same\n+added\n\\ No newline at end of file\n"
    assert rows(diff) == [Row("hunk", "@@ -1,4 +1,3 @@", None), Row("same", "keep", "keep"),
                          Row("change", "old 1", "new 1"), Row("change", "old 2", None),
                          Row("same", "same", "same"), Row("change", None, "added"),
                          Row("note", "\\ No newline at end of file", None)]


def test_a_large_archive_whose_members_all_differ_alike_reads_as_one_line() -> None:
    members = tuple(_member("official", f"pkg/f{i:05d}", 1700000000, 1700000002) for i in range(9_000))
    tree = Difference("official/big.tar", "rebuilt/big.tar", details=members)
    started = time.monotonic()
    nodes = _nodes(tree)
    assert time.monotonic() - started < 3
    assert [(n.view.label, n.view.count) for n in nodes] == [("big.tar", 1), ("9000 members (metadata)", 9000),
                                                             ("mtime", 1)]


def test_what_the_read_budget_leaves_out_is_said_after_what_was_read() -> None:
    count = MAX_READ // 2 + 2_000  # two nodes a member: more than can be read
    members = tuple(_member("official", f"pkg/f{i:05d}", 1700000000, 1700000001 + i % 2) for i in range(count))
    items = list(walk(outline(Difference("official/big.tar", "rebuilt/big.tar", details=members))))
    assert [n.view.count for n in items if isinstance(n, Node)] == [1, MAX_READ // 4, 1, MAX_READ // 4 - 1, 1]
    assert items[-1] == "… 2001 more differences not read (at most 20000 nodes are read)"
