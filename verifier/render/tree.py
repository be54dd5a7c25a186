"""Walking a Difference tree with budgets (depth, node count), for every presenter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from verifier.compare.difference import Difference

MAX_DEPTH = 8
MAX_NODES = 200


@dataclass(frozen=True)
class Node:
    """One difference node flattened for display; ``depth`` 0 is the artifact itself."""

    depth: int
    source1: str
    source2: str
    kind: str
    comments: tuple[str, ...]
    hints: tuple[str, ...]
    unified_diff: str | None
    children: int


def _node(d: Difference, depth: int) -> Node:
    return Node(depth, d.source1, d.source2, d.kind, d.comments, d.hints, d.unified_diff, len(d.details))


def walk(tree: Difference | None) -> Iterator[Node | str]:
    """Nodes depth-first (pre-order); a string marks where a budget cut the tree."""
    stack: list[tuple[Difference, int]] = [(tree, 0)] if tree is not None else []
    seen = 0
    while stack:
        d, depth = stack.pop()
        if seen >= MAX_NODES:
            yield f"… difference tree cut at {MAX_NODES} nodes"
            return
        seen += 1
        node = _node(d, depth)
        yield node
        if node.children and depth + 1 >= MAX_DEPTH:
            yield f"… {node.children} deeper differences not shown (depth limit {MAX_DEPTH})"
        else:
            stack.extend((child, depth + 1) for child in reversed(d.details))


def label(node: Node) -> str:
    """A node's title: one source name when both sides are named alike."""
    if node.source1 == node.source2:
        return node.source1
    return f"{node.source1} ↔ {node.source2}"
