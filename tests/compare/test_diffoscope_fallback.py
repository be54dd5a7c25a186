"""diffoscope for what verifier does not read natively: here the disassembly of ELF code that
differs (the ELF comparator reads headers and sections itself)."""

from __future__ import annotations

import sys
from pathlib import Path

from fixtures.compare.pairs import elf
from tests.compare.conftest import kinds, tree_text
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def _elf_pair(tmp_path: Path) -> tuple[Path, Path]:
    require_tool("gcc")
    return elf(tmp_path, "a", 1), elf(tmp_path, "b", 2)


def test_elf_code_is_disassembled_by_the_diffoscope_fallback(tmp_path: Path, cfg: Settings) -> None:
    require_tool("diffoscope")
    a, b = _elf_pair(tmp_path)
    result = compare_paths(a, b, cfg)
    assert result.difference.kind == "elf" and kinds(result.difference, "diffoscope")
    assert any("disassembled by diffoscope" in d for d in result.degradations), "the fallback is never silent"
    assert "a.c" in tree_text(result.difference) and "b.c" in tree_text(result.difference)


def test_missing_diffoscope_is_a_visible_degradation(tmp_path: Path, cfg: Settings, monkeypatch) -> None:
    a, b = _elf_pair(tmp_path)
    (tmp_path / "bin").mkdir()  # a machine without diffoscope: neither beside the interpreter nor on PATH
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = compare_paths(a, b, cfg)
    assert any("code differs; no disassembly (diffoscope: not installed (install diffoscope" in d
               for d in result.degradations)
    assert "(section .text)" in tree_text(result.difference), "the native reading still names the section"


def test_a_diffoscope_time_limit_is_a_visible_degradation(tmp_path: Path, cfg: Settings, monkeypatch) -> None:
    from verifier.compare.comparators import diffoscope

    a, b = _elf_pair(tmp_path)
    slow = tmp_path / "slow-diffoscope"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr(diffoscope, "require", lambda name: str(slow))
    monkeypatch.setattr(diffoscope, "TIMEOUT", 0.5)
    result = compare_paths(a, b, cfg)
    assert any("did not finish within" in d for d in result.degradations)
    assert "(section .text)" in tree_text(result.difference)
