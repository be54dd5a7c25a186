"""Arrows point down (issue 13): the auditor and the sandbox never import each other; what
they share (format sniffing, safe archive reading, budgets) lives in verifier/formats/,
which imports neither; libarchive is always opened with explicit format and filter names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "verifier"
FORBIDDEN = {"compare": ("verifier.sandbox",), "sandbox": ("verifier.compare",),
             "formats": ("verifier.sandbox", "verifier.compare", "verifier.render")}
READERS = {"file_reader", "memory_reader", "fd_reader", "stream_reader", "custom_reader", "seekable_stream_reader"}


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("room", FORBIDDEN)
def test_no_arrow_points_sideways(room: str) -> None:
    bad = [f"{path.relative_to(PACKAGE)} imports {name}" for path in sorted((PACKAGE / room).rglob("*.py"))
           for name in imports(path) if name.startswith(FORBIDDEN[room])]
    assert bad == []


def test_libarchive_is_opened_with_explicit_format_and_filter() -> None:
    loose = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in READERS:
                given = {k.arg: k.value for k in node.keywords}
                if not {"format_name", "filter_name"} <= set(given) or any(
                        isinstance(v, ast.Constant) and v.value == "all" for v in given.values()):
                    loose.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert loose == []
