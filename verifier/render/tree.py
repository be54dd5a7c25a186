"""Walking a report's Difference tree with budgets (depth, node count), for every presenter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 8
MAX_NODES = 200


@dataclass(frozen=True)
class Node:
    """One difference node flattened for display; ``depth`` 0 is the artifact itself."""

    depth: int
    source1: Any
    source2: Any
    kind: Any
    comments: tuple[Any, ...]
    hints: tuple[Any, ...]
    unified_diff: Any
    children: int


def _node(doc: dict[str, Any], depth: int) -> Node:
    details = doc.get("details") or []
    return Node(depth, doc.get("source1"), doc.get("source2"), doc.get("kind"),
                tuple(doc.get("comments") or ()), tuple(doc.get("hints") or ()),
                doc.get("unified_diff"), len(details) if isinstance(details, list) else 0)


def walk(tree: Any) -> Iterator[Node | str]:
    """Nodes depth-first (pre-order); a string marks where a budget cut the tree."""
    stack: list[tuple[Any, int]] = [(tree, 0)]
    seen = 0
    while stack:
        doc, depth = stack.pop()
        if not isinstance(doc, dict):
            continue
        if seen >= MAX_NODES:
            yield f"… difference tree cut at {MAX_NODES} nodes"
            return
        seen += 1
        node = _node(doc, depth)
        yield node
        details = doc.get("details") or []
        if node.children and depth + 1 >= MAX_DEPTH:
            yield f"… {node.children} deeper differences not shown (depth limit {MAX_DEPTH})"
        elif isinstance(details, list):
            stack.extend((child, depth + 1) for child in reversed(details))


def label(node: Node) -> str:
    """A node's title: one source name when both sides are named alike."""
    if node.source1 == node.source2:
        return str(node.source1)
    return f"{node.source1} ↔ {node.source2}"
