"""Shared pieces of the auditor's tests: settings in a temp dir, tree helpers, golden files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from verifier.compare.difference import Difference
from verifier.settings import Settings

GOLDEN = Path(__file__).parent.parent.parent / "fixtures" / "compare" / "expected"


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "c", work_dir=tmp_path / "w")


def tree_text(diff: Difference | None) -> str:
    return json.dumps(diff.to_json() if diff else None)


def nodes(diff: Difference) -> list[Difference]:
    return list(diff.walk())


def kinds(diff: Difference, kind: str) -> list[Difference]:
    return [n for n in diff.walk() if n.kind == kind]


def member_paths(diff: Difference, kind: str = "content") -> list[str]:
    """Where each node of ``kind`` is, as the member path after the last ``::``."""
    return [n.source1.split("::")[-1] for n in kinds(diff, kind)]


def fields(diff: Difference, kind: str = "metadata") -> dict[str, str | None]:
    """Leaf field nodes of ``kind``, name -> diff (the last one wins when a name repeats)."""
    return {n.source1: n.unified_diff for n in kinds(diff, kind) if not n.details}


def assert_golden(name: str, out: str) -> None:
    """Compare with fixtures/compare/expected/NAME, reviewed like code (VERIFIER_UPDATE_GOLDEN=1 rewrites)."""
    golden = GOLDEN / name
    if os.environ.get("VERIFIER_UPDATE_GOLDEN") == "1":
        golden.write_text(out)
    assert out == golden.read_text()
