"""diffoscope as the fallback for formats verifier does not read natively (ELF, PDF, images,
Java classes…): run on just the one member pair, with a time limit, its JSON grafted into
our tree. A missing tool, a timeout or a crash is a comment (and a degradation), and the
engine then compares the pair as bytes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side, ToolFailed
from verifier.formats import sniff
from verifier.tools import require

TIMEOUT = 120.0
MAX_REPORT = 4 << 20
MAX_NODES = 500


def _graft(doc: Any, budget: list[int]) -> Difference | None:
    if not isinstance(doc, dict) or budget[0] <= 0:
        return None
    budget[0] -= 1
    details = tuple(d for d in (_graft(c, budget) for c in doc.get("details") or []) if d is not None)
    diff = doc.get("unified_diff")
    return Difference(str(doc.get("source1", "?"))[:500], str(doc.get("source2", "?"))[:500],
                      tuple(str(c)[:500] for c in doc.get("comments") or []),
                      diff[:200_000] if isinstance(diff, str) else None, details, kind="diffoscope")


@dataclass(frozen=True)
class DiffoscopeComparator:
    name: str = "diffoscope"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_other_known(head)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        tree = run_diffoscope(a, b)
        if tree is None:
            return None
        ctx.degrade(f"{a.label}: explained by the diffoscope fallback")
        return Difference(a.label, b.label, ("explained by diffoscope (fallback for this format)",),
                          None, tree.details or (tree,), kind="diffoscope")


def run_diffoscope(a: Side, b: Side) -> Difference | None:
    """diffoscope's tree for one pair (None: it found nothing), within its time limit."""
    argv = [require("diffoscope"), "--json", "-", "--no-progress", "--max-report-size", str(MAX_REPORT),
            "--exclude-directory-metadata=yes", "--", str(a.path), str(b.path)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"diffoscope did not finish within {TIMEOUT:.0f} s") from None
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise ToolFailed(f"diffoscope failed (exit {done.returncode})")
    try:
        return _graft(json.loads(done.stdout), [MAX_NODES])
    except (ValueError, RecursionError):
        raise ToolFailed("diffoscope wrote JSON verifier could not read") from None
