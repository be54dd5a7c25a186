"""External tools: a missing one is an infrastructure error (exit 5) naming its package,
never an input error; in a comparison it becomes a visible degradation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.compare.pairs import squashfs
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.errors import ExitCode, InputError, ToolMissing
from verifier.settings import Settings
from verifier.tools import TOOLS, require


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch) -> Path:
    """No external tool: neither beside the interpreter nor on PATH."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    monkeypatch.setenv("PATH", str(empty))
    return empty


@pytest.mark.parametrize("tool", [t.name for t in TOOLS])
def test_a_missing_tool_is_an_infrastructure_error_naming_its_package(bare_machine: Path, tool: str) -> None:
    with pytest.raises(ToolMissing) as err:
        require(tool)
    assert err.value.exit_code == ExitCode.INFRASTRUCTURE and not isinstance(err.value, InputError)
    package = next(t.package for t in TOOLS if t.name == tool)
    assert str(err.value).startswith(f"{tool}: not installed (install {package}; used for ")


def test_a_found_tool_is_its_path() -> None:
    assert Path(require("xz")).name == "xz"


def test_missing_unsquashfs_is_a_degradation_that_names_the_tool(tmp_path: Path, settings: Settings,
                                                                 monkeypatch) -> None:
    require_tool("mksquashfs")
    a = squashfs(tmp_path, "a", {"f": "one\n"})
    b = squashfs(tmp_path, "b", {"f": "two\n"})
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = compare_paths(a, b, settings)
    assert any("unsquashfs: not installed (install squashfs-tools" in d for d in result.degradations)
    assert result.difference is not None, "the bytes still differ"
