"""The `verifier compare` result as typed data, and its versioned JSON document
(``compare_version`` 1, docs/compare.md): built from a ``Comparison``, written, and read
back (``--load``) with one validation, like the verify report (``codec.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema

from verifier.compare.api import Comparison
from verifier.compare.difference import Difference
from verifier.compare.normalize import Normalization
from verifier.errors import InputError, where
from verifier.files import read_limited
from verifier.manifest import strict_json_loads
from verifier.outcome import CompareStatus
from verifier.report.codec import check_tree, parse_difference

COMPARE_VERSION = 1
MAX_COMPARISON_BYTES = 64 << 20
_STRS = {"type": "array", "items": {"type": "string"}}
_SCHEMA = {
    "type": "object",
    "required": ["compare_version", "source1", "source2", "identical", "equivalent", "normalized",
                 "degradations", "difference"],
    "properties": {
        "compare_version": {"const": COMPARE_VERSION},
        "source1": {"type": "string"}, "source2": {"type": "string"},
        "identical": {"type": "boolean"}, "equivalent": {"type": "boolean"},
        "normalized": {"oneOf": [
            {"type": "object", "maxProperties": 0},
            {"type": "object", "required": ["normalizers", "equivalent", "remaining_tree_sha256"],
             "properties": {"normalizers": _STRS, "equivalent": {"type": "boolean"},
                            "remaining_tree_sha256": {"type": "string"}}}]},
        "degradations": _STRS,
        "difference": {"type": ["object", "null"]},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


@dataclass(frozen=True)
class ComparisonDocument:
    source1: str
    source2: str
    identical: bool
    equivalent: bool
    normalized: Normalization | None
    degradations: tuple[str, ...]
    difference: Difference | None

    @property
    def status(self) -> CompareStatus:
        if self.identical:
            return CompareStatus.IDENTICAL
        return CompareStatus.EQUIVALENT if self.equivalent else CompareStatus.DIFFERENT


def comparison_document(a: Path, b: Path, c: Comparison) -> ComparisonDocument:
    return ComparisonDocument(str(a), str(b), c.identical, c.equivalent, c.normalized, c.degradations, c.difference)


def comparison_bytes(doc: ComparisonDocument) -> bytes:
    n = doc.normalized
    normalized = {} if n is None else {"normalizers": list(n.normalizers), "equivalent": n.equivalent,
                                       "remaining_tree_sha256": n.remaining_tree_sha256}
    out = {"compare_version": COMPARE_VERSION, "source1": doc.source1, "source2": doc.source2,
           "identical": doc.identical, "equivalent": doc.equivalent, "normalized": normalized,
           "degradations": list(doc.degradations),
           "difference": doc.difference.to_json() if doc.difference else None}
    return (json.dumps(out, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("utf-8")


def _from_json(doc: Any, place: object) -> ComparisonDocument:
    if not isinstance(doc, dict) or doc.get("compare_version") != COMPARE_VERSION:
        raise InputError(where(place, f"not a verifier compare document of version {COMPARE_VERSION}"))
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(doc))
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(where(place, f"not a valid compare document: field {field}: {error.message[:200]}"))
    tree, n = doc["difference"], doc["normalized"]
    if tree is not None:
        check_tree(tree, place, "difference", "compare document")
    normalized = Normalization(tuple(n["normalizers"]), n["equivalent"], n["remaining_tree_sha256"]) if n else None
    return ComparisonDocument(doc["source1"], doc["source2"], doc["identical"], doc["equivalent"], normalized,
                              tuple(doc["degradations"]), parse_difference(tree) if tree is not None else None)


def load_comparison(path: Path) -> ComparisonDocument:
    """A saved compare document, validated; any problem is one InputError naming ``path``."""
    return _from_json(strict_json_loads(read_limited(path, MAX_COMPARISON_BYTES, "comparison"), str(path)), path)


def _cap(node: Difference, max_lines: int) -> Difference:
    details = tuple(_cap(d, max_lines) for d in node.details)
    diff = node.unified_diff
    if diff is None or diff.count("\n") <= max_lines:
        return replace(node, details=details)
    cut = "\n".join(diff.split("\n")[:max_lines]) + "\n"
    note = f"diff cut to {max_lines} lines for display (--max-diff-lines)"
    return replace(node, unified_diff=cut, comments=(*node.comments, note), details=details)


def cap_diffs(doc: ComparisonDocument, max_lines: int) -> ComparisonDocument:
    """Display limit: every unified diff cut to ``max_lines`` lines, saying so (the result is unchanged)."""
    if doc.difference is None:
        return doc
    return replace(doc, difference=_cap(doc.difference, max_lines))
