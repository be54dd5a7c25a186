"""A Difference tree made readable for every presenter, within budgets.

What a reader sees instead of the raw tree (the JSON keeps the raw tree):
- each node named relative to its parent (``pkg/src/main.c``, not
  ``a.tar.gz::(decompressed)::pkg/src/main.c``), one name when both sides agree, and the
  artifact named once (not ``official/x ↔ rebuilt/x``);
- a node that only repeats its parent's name is folded into the parent;
- siblings with the same difference below them (same fields, diffs, hints) become one node
  with the count and the member names (``4 members: pkg/, pkg/VERSION, …``);
- a field whose one value changed reads ``old → new``; times as ISO 8601 UTC and the
  difference (``2023-11-14T22:13:20Z → 2023-11-14T23:13:20Z (+1 h)``);
- hints are collected with where they were found, so presenters can show them first.

Budgets: MAX_READ nodes read, MAX_DEPTH levels, MAX_NODES nodes shown; a string in
``walk``'s output says where a budget cut the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from verifier.compare.difference import Difference
from verifier.render.values import change, time_lines

MAX_DEPTH = 8
MAX_NODES = 200
MAX_READ = 20000
MAX_MEMBERS = 50
FIELD_DIFF = re.compile(r"-([^\n]*)\n\+([^\n]*)\n?")
SIDE_MARKS = (("official/", "rebuilt/", True), (" (official)", " (rebuilt)", False))  # (side 1, side 2, prefix?)
FOLDED = ("", "(decompressed)")  # labels of wrapper nodes whose children are shown in their place
SUFFIX = re.compile(r"^(.*\S) (\([^()]*\))$")


@dataclass(frozen=True)
class View:
    """One node as shown: ``label`` relative to the parent; ``change`` replaces ``diff``
    for a one-value field; ``count`` > 1 when it stands for several members (``members``)."""

    label: str
    kind: str
    comments: tuple[str, ...]
    hints: tuple[str, ...]
    diff: str | None
    change: str | None
    children: tuple["View", ...] = ()
    hidden: int = 0  # children beyond the depth limit
    count: int = 1
    members: tuple[str, ...] = ()
    unread: int = 0  # children not read once the read budget was spent


@dataclass(frozen=True)
class Node:
    """A view met on the depth-first walk; ``depth`` 0 is the artifact itself."""

    depth: int
    view: View


@dataclass(frozen=True)
class Hint:
    text: str
    where: str  # labels from the artifact down to the node ("" at the artifact itself)
    elsewhere: int  # how many other nodes gave the same hint


def _relative(label: str, parent: str) -> str:
    if label == parent:
        return ""
    for sep in ("::", "/", " "):
        if parent and label.startswith(parent + sep):
            return label[len(parent) + len(sep):]
    return label


def _root_label(s1: str, s2: str) -> str:
    for one, two, prefix in SIDE_MARKS:
        has = (s1.startswith(one) and s2.startswith(two)) if prefix else (s1.endswith(one) and s2.endswith(two))
        if has:
            a, b = (s1[len(one):], s2[len(two):]) if prefix else (s1[: -len(one)], s2[: -len(two)])
            if a == b:
                return a
    return s1 if s1 == s2 else f"{s1} ↔ {s2}"


def _label(s1: str, s2: str, parent: tuple[str, str] | None) -> str:
    if parent is None:
        return _root_label(s1, s2)
    r1, r2 = _relative(s1, parent[0]), _relative(s2, parent[1])
    return r1 if r1 == r2 else f"{r1 or '(same)'} ↔ {r2 or '(same)'}"


class _Reader:
    def __init__(self) -> None:
        self.read = 0

    def view(self, d: Difference, parent: tuple[str, str] | None, depth: int) -> View:
        self.read += 1
        s1, s2, kind, comments, hints, diff, details = (d.source1, d.source2, d.kind, d.comments, d.hints,
                                                        d.unified_diff, d.details)
        children, hidden, unread = self._children(details, (s1, s2), depth)
        label = _label(s1, s2, parent)
        shown_change = None
        field = FIELD_DIFF.fullmatch(diff) if diff and not details else None
        if field:
            shown_change, diff = change(label, field[1], field[2]), None
        elif diff:
            diff = time_lines(label, diff)
        comments, hints, kept = list(comments), list(hints), []
        for child in children:  # fold wrappers that only repeat this node's name
            if child.unread and not (child.children or child.diff or child.change):
                unread += 1  # read, but nothing of it was: counted with the unread
            elif child.label in FOLDED and child.diff is None and child.change is None and child.count == 1:
                comments += child.comments
                hints += child.hints
                kept += child.children
                hidden += child.hidden
                unread += child.unread
            else:
                kept.append(child if child.label else _named(child))
        return View(label, kind, tuple(comments), tuple(dict.fromkeys(hints)), diff, shown_change,
                    _group(kept), hidden, unread=unread)

    def _children(self, details: tuple[Difference, ...], parent: tuple[str, str],
                  depth: int) -> tuple[list[View], int, int]:
        """The children read, how many lie beyond the depth limit, how many were left unread."""
        if depth + 1 >= MAX_DEPTH:
            return [], len(details), 0
        children, unread = [], 0
        for child in details:
            if self.read >= MAX_READ:
                unread += 1
                continue
            children.append(self.view(child, parent, depth + 1))
        return children, 0, unread


def _named(view: View) -> View:
    return View(f"({view.kind or 'content'})", view.kind, view.comments, view.hints, view.diff, view.change,
                view.children, view.hidden, view.count, view.members, view.unread)


def _signature(view: View) -> tuple[Any, ...]:
    """Everything about a node but its own name: siblings with the same signature read alike."""
    below = tuple((c.label, c.count, c.members, _signature(c)) for c in view.children)
    return (view.kind, view.comments, view.hints, view.diff, view.change, view.hidden, view.unread, below)


def _group(children: list[View]) -> tuple[View, ...]:
    groups: dict[tuple[Any, ...], list[View]] = {}
    for child in children:
        key = _signature(child) if child.children or child.diff or child.change else ("alone", id(child))
        groups.setdefault(key, []).append(child)
    return tuple(same[0] if len(same) == 1 else _merged(same) for same in groups.values())


def _merged(same: list[View]) -> View:
    """One node for siblings that read alike: fields with the same change are named
    together (``gname, uname: (empty) → root``); members get a count and a list."""
    names = [v.label for v in same]
    first = same[0]
    if first.change is not None and not first.children:
        return View(", ".join(names), first.kind, first.comments, first.hints, None, first.change)
    suffixes = {m[2] for m in map(SUFFIX.match, names) if m}
    suffix = suffixes.pop() if len(suffixes) == 1 and all(SUFFIX.match(n) for n in names) else ""
    if suffix:
        names = [n[: -len(suffix) - 1] for n in names]
    label = f"{len(same)} members" + (f" {suffix}" if suffix else "")
    return View(label, first.kind, first.comments, first.hints, first.diff, first.change, first.children,
                first.hidden, len(same), tuple(names[:MAX_MEMBERS]), first.unread)


def outline(tree: Difference | None) -> View | None:
    """The readable view of a Difference tree, or None."""
    return _Reader().view(tree, None, 0) if tree is not None else None


def walk(root: View | None) -> Iterator[Node | str]:
    """Nodes depth-first (pre-order); a string marks where a budget cut the tree."""
    stack: list[tuple[View, int] | str] = [(root, 0)] if root is not None else []
    seen = 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        view, depth = item
        if seen >= MAX_NODES:
            yield f"… difference tree cut at {MAX_NODES} nodes"
            return
        seen += 1
        yield Node(depth, view)
        if view.hidden:
            yield f"… {view.hidden} deeper differences not shown (depth limit {MAX_DEPTH})"
        if view.unread:  # said after the children that were read
            stack.append(f"… {view.unread} more differences not read (at most {MAX_READ} nodes are read)")
        stack.extend((child, depth + 1) for child in reversed(view.children))


def hints(root: View | None) -> tuple[Hint, ...]:
    """Every hint once, in tree order, with where it was first given."""
    found: dict[str, list[str]] = {}
    stack: list[tuple[View, tuple[str, ...]]] = [(root, ())] if root is not None else []
    while stack:
        view, path = stack.pop()
        for text in view.hints:
            found.setdefault(text, []).append(" › ".join(path))
        stack.extend((c, (*path, c.label)) for c in reversed(view.children))
    return tuple(Hint(text, places[0], len(places) - 1) for text, places in found.items())
